"""Demo forum content for ``seed_demo``: the trade's categories (one nested, one for
facilitators only) and about thirty topics with replies by the demo members, tagged
with catalogue skills, some questions answered and expert-verified, a few reactions.

Everything goes through the services (posting, social), so counters, streams and
notifications are what real use would make. Safe to run again: categories are matched
by slug and a topic whose title already exists is left alone. Demo data sends no e-mail
and is not held to the new-member posting limits.
"""

from dataclasses import dataclass, field
from typing import Protocol

from django.db import transaction
from django.test.utils import override_settings

from community.forums.models import Category, Topic, TopicKind
from community.forums.services.posting import post_create, topic_create
from community.forums.services.social import answer_accept, post_verify_set, reaction_set
from community.models import User

Q, D = TopicKind.QUESTION, TopicKind.DISCUSSION


class _Writer(Protocol):
    def write(self, msg: str) -> object: ...


@dataclass(frozen=True)
class CategorySpec:
    slug: str
    name: str
    description: str
    parent: str = ""
    required_role: str = ""


CATEGORIES = [
    CategorySpec(
        "upstream",
        "Upstream & cell culture",
        "Cell lines, media and feeds, seed trains, bioreactors, fermentation and harvest.",
    ),
    CategorySpec(
        "cell-gene-therapy",
        "Cell & gene therapy",
        "Viral vectors, CAR-T and other cell therapies, closed processing, chain of identity.",
        parent="upstream",
    ),
    CategorySpec(
        "downstream",
        "Downstream & purification",
        "Chromatography, filtration, viral clearance, UF/DF and buffers.",
    ),
    CategorySpec(
        "fill-finish",
        "Fill-finish",
        "Aseptic processing, filling, lyophilisation, environmental monitoring, inspection.",
    ),
    CategorySpec(
        "qc-analytics",
        "QC analytics",
        "Methods, validation, bioassays, microbiology, stability and release testing.",
    ),
    CategorySpec(
        "gmp-quality",
        "GMP & quality systems",
        "Deviations and CAPA, change control, data integrity, audits and inspections.",
    ),
    CategorySpec(
        "regulatory",
        "Regulatory",
        "CMC writing, clinical trial applications, variations, WHO prequalification.",
    ),
    CategorySpec(
        "careers",
        "Careers & learning",
        "Moving into the industry, growing in it, courses, interviews and mentoring.",
    ),
    CategorySpec(
        "facilitators-lounge",
        "Facilitators' lounge",
        "For workshop facilitators: planning sessions, sharing material, what worked.",
        required_role="facilitator",
    ),
]


@dataclass(frozen=True)
class TopicSpec:
    category: str
    author: str
    kind: str
    title: str
    body: str
    skills: tuple[str, ...]
    replies: tuple[tuple[str, str], ...] = ()
    accept: int | None = None  # the accepted reply (1 = the first reply)
    verify: tuple[int, str] | None = None  # (reply, mentor) marked expert-verified
    # (post, member, kind): post 0 is the opening post, 1 the first reply ...
    reactions: tuple[tuple[int, str, str], ...] = field(default=())


TOPICS = [
    TopicSpec(
        "upstream",
        "otieno_brian",
        Q,
        "CHO fed-batch viability drops on day 9 every run",
        "Our CHO fed-batch in a 50 L single-use bioreactor holds above 95% viability until "
        "day 8, then falls to about 80% by day 10. Glucose stays above 2 g/L, pH 7.0, DO 40%. "
        "Lactate climbs after day 7. Where should I look first?",
        ("cho-fed-batch-culture", "bioreactor-operation"),
        replies=(
            (
                "adaeze.okafor",
                "Check **osmolality** first: with bolus feeds and base additions it often passes "
                "450 mOsm/kg around day 8 and viability follows. Also plot ammonium. If both are "
                "high, try a lower feed volume with a richer feed, and consider a temperature "
                "shift to 33 °C on day 5.",
            ),
            (
                "kiprono.j",
                "We had the same pattern and it was dissolved CO2. pCO2 went above 150 mmHg at "
                "high cell density because the sparger was too fine. An open-pipe sparger for "
                "CO2 stripping fixed it.",
            ),
            (
                "otieno_brian",
                "Osmolality was 480 on day 8! We will test the lower feed volume next run. "
                "Thanks both.",
            ),
        ),
        accept=1,
        verify=(1, "priya.raghavan"),
        reactions=(
            (1, "kiprono.j", "like"),
            (1, "tunde.adeyemi", "thanks"),
            (2, "otieno_brian", "insightful"),
        ),
    ),
    TopicSpec(
        "upstream",
        "tunde.adeyemi",
        Q,
        "How do you decide when to split a seed train flask?",
        "I'm new on the seed train. Our SOP says split at 2-4 x 10^6 cells/mL but the senior "
        "operators seem to use their own judgement. What do you look at besides density?",
        ("seed-train-expansion",),
        replies=(
            (
                "maya.patel",
                "Viability (above 95%), doubling time compared with the last passages, and the "
                "time the next vessel is ready. Keep cells in exponential growth: splitting late "
                "into stationary phase costs you more than the clock suggests. And write down "
                "the passage number every time.",
            ),
            (
                "jonas.weber",
                "Also aggregates. If you see clumps under the microscope, split earlier and "
                "check the agitation speed of the shaker.",
            ),
        ),
        accept=1,
        reactions=((1, "tunde.adeyemi", "thanks"),),
    ),
    TopicSpec(
        "upstream",
        "aminu.bello",
        D,
        "Perfusion vs intensified fed-batch for a new monoclonal antibody",
        "Our site is choosing between N-1 perfusion with fed-batch production and full "
        "perfusion with ATF for a new antibody. What did you choose and why?",
        ("perfusion-culture", "scale-up-and-tech-transfer"),
        replies=(
            (
                "jonas.weber",
                "N-1 perfusion gave us most of the titre gain (about 2x) without the media cost "
                "and the filter fouling of full perfusion. Full perfusion made sense only for an "
                "unstable molecule that needed short residence time.",
            ),
            (
                "camila.souza",
                "Think about the facility too: full perfusion needs media prep every day and "
                "more hold tanks. Our media suite became the bottleneck, not the bioreactor.",
            ),
        ),
        reactions=((1, "aminu.bello", "insightful"),),
    ),
    TopicSpec(
        "upstream",
        "rosa.quispe",
        Q,
        "E. coli fermentation foaming after induction",
        "After IPTG induction our 30 L E. coli fed-batch foams heavily and we lose volume "
        "through the exhaust filter. Antifoam helps but we worry about downstream effects.",
        ("microbial-fermentation",),
        replies=(
            (
                "thomas.leroy",
                "Add antifoam on demand with a foam probe rather than in bolus, and keep the "
                "total low. Most silicone antifoams clear in the first capture step, but check "
                "with your DSP team. Lowering the feed rate right after induction also reduces "
                "foaming because cell lysis drops.",
            ),
        ),
    ),
    TopicSpec(
        "cell-gene-therapy",
        "lerato.mokoena",
        Q,
        "AAV full/empty capsid ratio is low after transfection",
        "Our AAV9 triple transfection in HEK293 gives only about 20% full capsids by AUC. "
        "What are the usual levers upstream before we rely on the polishing step?",
        ("aav-vector-production",),
        replies=(
            (
                "thandiwe.nkosi",
                "Plasmid ratio first (try 1:1:1 vs 1:2:1 rep/cap:helper), then the DNA:PEI ratio "
                "and the cell density at transfection. Harvest time matters too: later harvests "
                "tend to have more empty capsids. Measure with the same method each time, AUC "
                "and cryo-EM disagree.",
            ),
            (
                "pieter.vdmerwe",
                "Anion exchange can enrich full capsids a lot, but it will not rescue a 20% "
                "process. Fix upstream first.",
            ),
        ),
        accept=1,
        verify=(1, "claudine.mukamana"),
        reactions=((1, "lerato.mokoena", "thanks"), (1, "pieter.vdmerwe", "like")),
    ),
    TopicSpec(
        "cell-gene-therapy",
        "wanjiru.kamau",
        D,
        "Chain of identity for autologous CAR-T: what does your label system look like?",
        "We are designing the chain of identity for an autologous CAR-T trial. How do you "
        "link apheresis, manufacturing and infusion, and who checks at each handover?",
        ("car-t-manufacturing", "chain-of-identity-custody"),
        replies=(
            (
                "aoife.byrne",
                "One patient identifier printed on every label from apheresis to infusion bag, "
                "scanned, never typed, at each handover. Two-person verification at receipt and "
                "at release. The hospital pharmacy scans again before infusion.",
            ),
        ),
    ),
    TopicSpec(
        "downstream",
        "sneha_kulkarni",
        Q,
        "Protein A resin lifetime: how many cycles do you get?",
        "We are at cycle 80 on our protein A column and dynamic binding capacity is down about "
        "15%. The vendor claims 200 cycles. What lifetime do you see in practice and how do "
        "you decide to repack?",
        ("protein-a-affinity-chromatography", "column-packing-and-qualification"),
        replies=(
            (
                "priya.raghavan",
                "Between 100 and 200 cycles, depending mostly on **cleaning**: 0.1 M NaOH every "
                "cycle kept ours above 90% DBC for 150 cycles. Track DBC, HETP, asymmetry and "
                "HCP/leached protein A in the eluate, and set your retire criteria in the "
                "lifetime study, not on the day.",
            ),
            (
                "usman.malik",
                "A 15% drop by cycle 80 sounds like fouling. Try a stronger strip with 0.5 M "
                "NaOH for a few cycles and see whether capacity comes back.",
            ),
        ),
        accept=1,
        verify=(1, "mariam.hassan"),
        reactions=((1, "sneha_kulkarni", "thanks"), (2, "arjun.mehta", "like")),
    ),
    TopicSpec(
        "downstream",
        "arjun.mehta",
        Q,
        "Viral filter flux decay during filtration",
        "Flux through our parvovirus filter falls by 70% before we reach the target loading. "
        "The feed is the anion exchange flow-through. Any ideas?",
        ("viral-inactivation-and-filtration",),
        replies=(
            (
                "mariam.hassan",
                "Usually aggregates or trace particulates. Add a prefilter with an adsorptive "
                "membrane in line, check the pH and conductivity of the feed against the "
                "filter's validated range, and run a Vmax test at small scale.",
            ),
        ),
        accept=1,
    ),
    TopicSpec(
        "downstream",
        "tran.minh.duc",
        D,
        "Buffer preparation: inline conditioning worth it at clinical scale?",
        "Our buffer prep area is full. Has anyone moved to inline conditioning from "
        "concentrates at clinical scale, and how hard was the validation?",
        ("buffer-preparation", "single-use-systems"),
        replies=(
            (
                "lena.schmidt",
                "We did. The hard part was proving pH and conductivity accuracy across the flow "
                "range, and the operators needed time to trust it. We saved about 60% of the "
                "tank volume.",
            ),
        ),
    ),
    TopicSpec(
        "downstream",
        "youssef.benali",
        Q,
        "UF/DF: protein concentration overshoots at the end of diafiltration",
        "During final concentration after diafiltration the retentate concentration overshoots "
        "the target and we see more high molecular weight species. How do you control this?",
        ("ultrafiltration-diafiltration",),
        replies=(
            (
                "dewi.lestari",
                "Control on retentate weight with a load cell, not on time. Lower the TMP "
                "near the end and recirculate at low flow before the final recovery so the "
                "polarisation layer does not end up in the product.",
            ),
        ),
        accept=1,
    ),
    TopicSpec(
        "fill-finish",
        "ahmed.farouk",
        Q,
        "Media fill failed with one positive unit: what happens next?",
        "Our media fill had one positive out of 6,000 units. Investigation is starting. What "
        "does a good investigation look like, and do we need three new runs?",
        ("media-fill-aseptic-process-simulation", "deviation-investigation-and-capa"),
        replies=(
            (
                "achieng.odhiambo",
                "Identify the organism first, then compare it with your environmental "
                "monitoring and personnel isolates. Review the interventions recorded for that "
                "run, the video if you have it, and the units near the positive. Under Annex 1 "
                "one positive fails the run; expect repeat runs before routine production.",
            ),
            (
                "salma.elidrissi",
                "We found our positive through the EM data: the same Staphylococcus from an "
                "operator's glove print. Retraining plus a gowning requalification closed it.",
            ),
        ),
        accept=1,
        verify=(1, "claire.dubois"),
        reactions=((1, "ahmed.farouk", "thanks"), (2, "ahmed.farouk", "insightful")),
    ),
    TopicSpec(
        "fill-finish",
        "aissatou.diop",
        D,
        "Lyophilisation cycle: primary drying takes too long",
        "Our lyo cycle for a vaccine takes 60 hours of primary drying. Has anyone shortened "
        "this safely? The collapse temperature is -32 °C.",
        ("lyophilisation-cycle-development",),
        replies=(
            (
                "claire.dubois",
                "Measure the product temperature with thermocouples and work as close to the "
                "collapse temperature as you dare (2-3 °C below). Raising the shelf temperature "
                "while keeping the chamber pressure at 80-100 µbar often cuts primary drying "
                "by a third. Controlled nucleation helps too.",
            ),
        ),
        reactions=((1, "aissatou.diop", "like"),),
    ),
    TopicSpec(
        "fill-finish",
        "paolo.reyes",
        Q,
        "Visual inspection: how do you qualify inspectors?",
        "We're setting up manual visual inspection. How do you build the defect kit and "
        "qualify inspectors?",
        ("visual-inspection",),
        replies=(
            (
                "tan.weiling",
                "Build a kit with real defect vials (particles, cracks, fill level) mixed with "
                "good units, with the detection rate for each defect known from many "
                "inspections. Inspectors must reach the same detection rate, with eye tests "
                "and a time limit per tray.",
            ),
        ),
    ),
    TopicSpec(
        "fill-finish",
        "hira.qureshi",
        D,
        "Environmental monitoring trending in grade A",
        "How often do you review EM trends, and what triggers an investigation before an "
        "action limit is hit?",
        ("environmental-monitoring",),
        replies=(
            (
                "achieng.odhiambo",
                "Monthly review with the production team, and adverse trends count even below "
                "limits: two alerts in a row at one location, or any recovery in grade A.",
            ),
        ),
    ),
    TopicSpec(
        "qc-analytics",
        "uwase.diane",
        Q,
        "HPLC method validation: how many injections for repeatability?",
        "I'm writing my first validation protocol for an HPLC purity method. ICH Q2 says six "
        "determinations at 100% or nine across the range. Which do people actually use?",
        ("hplc-and-uplc-methods", "analytical-method-validation"),
        replies=(
            (
                "maya.patel",
                "Most labs do six at 100% for repeatability and nine (three levels x three) for "
                "accuracy, which then also gives you repeatability data. Write the acceptance "
                "criteria before you run anything.",
            ),
            (
                "nour.elsayed",
                "And check the revised Q2(R2) and Q14: our QA now expects a link between the "
                "analytical target profile and the validation criteria.",
            ),
        ),
        accept=1,
        verify=(1, "tan.weiling"),
        reactions=((1, "uwase.diane", "thanks"), (2, "uwase.diane", "insightful")),
    ),
    TopicSpec(
        "qc-analytics",
        "farhana.rahman",
        Q,
        "Host cell protein ELISA coverage is questioned by the agency",
        "The reviewer asks for evidence of our HCP ELISA coverage. We used a commercial kit. "
        "What do they expect?",
        ("host-cell-protein-and-residual-dna", "mass-spectrometry-characterisation"),
        replies=(
            (
                "mariam.hassan",
                "A coverage study: 2D-DIGE or 2D western blot of your own process HCPs against "
                "the kit antibodies, and increasingly LC-MS/MS to identify the individual HCPs "
                "that remain. For a late-phase product consider a process-specific ELISA.",
            ),
        ),
        accept=1,
    ),
    TopicSpec(
        "qc-analytics",
        "kim.jiyeon",
        D,
        "Potency bioassay variability: what CV do you accept?",
        "Our cell-based potency assay runs at 20-25% CV between runs. How do others bring "
        "this down?",
        ("potency-and-bioassays",),
        replies=(
            (
                "thandiwe.nkosi",
                "Control the cell passage window tightly, use one lot of critical reagents for "
                "long periods, and randomise the plate layout. A parallel-line analysis with "
                "system suitability criteria on the slope ratio cut ours to about 12%.",
            ),
        ),
        reactions=((1, "kim.jiyeon", "like"),),
    ),
    TopicSpec(
        "qc-analytics",
        "diego.ramirez",
        Q,
        "Endotoxin testing: low spike recovery in our buffer",
        "LAL kinetic chromogenic: spike recovery is 30% in our formulation buffer with "
        "polysorbate. How do we get it into 50-200%?",
        ("microbiology-testing",),
        replies=(
            (
                "claire.dubois",
                "Low endotoxin recovery with polysorbate and citrate is a known effect. Dilute "
                "further within the maximum valid dilution first, and if that fails run a "
                "hold-time study and consider a different detergent-tolerant method.",
            ),
        ),
        accept=1,
    ),
    TopicSpec(
        "gmp-quality",
        "jp.habimana",
        Q,
        "Root cause analysis: when is 'human error' acceptable?",
        "Our QA rejects deviation reports that conclude 'human error'. What do you write "
        "instead when an operator really did skip a step?",
        ("deviation-investigation-and-capa",),
        replies=(
            (
                "andres.castro",
                "Ask why the step could be skipped: was the batch record ambiguous, was there "
                "time pressure, was the training practical? Human error is a symptom. The CAPA "
                "should change the system (design, record, workload), not only retrain.",
            ),
            (
                "valeria.hernandez",
                "We use a short human factors checklist in every investigation. It made our "
                "CAPAs much better and QA stopped sending reports back.",
            ),
        ),
        accept=1,
        verify=(1, "mamadou.ndiaye"),
        reactions=((1, "jp.habimana", "insightful"), (2, "sofia.gimenez", "like")),
    ),
    TopicSpec(
        "gmp-quality",
        "sofia.gimenez",
        D,
        "Data integrity: audit trail review for chromatography data",
        "How often do you review audit trails in your chromatography data system, and what "
        "do you look for?",
        ("data-integrity-alcoa", "computerised-system-validation"),
        replies=(
            (
                "nguyen.thi.lan",
                "Every result before release: reintegrations, aborted or deleted injections, "
                "changed processing methods and time changes. A periodic review looks for "
                "patterns across users.",
            ),
        ),
    ),
    TopicSpec(
        "gmp-quality",
        "kwame.asante",
        Q,
        "Change control for a new raw material supplier",
        "We want to add a second supplier for a cell culture media component. What studies "
        "do we need inside change control?",
        ("change-control", "media-and-feed-preparation"),
        replies=(
            (
                "priya.raghavan",
                "A risk assessment first, then comparability: certificates of analysis, trace "
                "elements, small-scale cultures in parallel, and one or more at-scale runs. "
                "Tell regulatory early: some markets need a variation.",
            ),
        ),
        accept=1,
    ),
    TopicSpec(
        "gmp-quality",
        "mariam.hassan",
        D,
        "Preparing for a first WHO prequalification inspection",
        "We expect our first WHO PQ inspection next year. Share what you wish you had done "
        "earlier.",
        ("audits-and-inspection-readiness", "who-prequalification"),
        replies=(
            (
                "mamadou.ndiaye",
                "Mock inspections with an outside auditor, a storyboard for every major "
                "deviation of the last two years, and SMEs who practise answering questions "
                "briefly.",
            ),
            (
                "yaw.boateng",
                "A clear front room / back room setup and a document retrieval target of 15 "
                "minutes. Practise it.",
            ),
        ),
        reactions=((1, "kwame.asante", "like"), (2, "kwame.asante", "like")),
    ),
    TopicSpec(
        "regulatory",
        "salma.elidrissi",
        Q,
        "CTD Module 3: where does the process validation summary go?",
        "For a biologic, do we put the process validation summary in 3.2.S.2.5 or in 3.2.P?",
        ("ctd-module-3-cmc-writing",),
        replies=(
            (
                "youssef.benali",
                "Drug substance validation in 3.2.S.2.5, drug product in 3.2.P.3.5. Reports "
                "can go to the regional section or be summarised with references.",
            ),
        ),
        accept=1,
    ),
    TopicSpec(
        "regulatory",
        "maria.santos",
        D,
        "Biosimilar comparability: how much analytical data is enough?",
        "Our biosimilar team debates how many reference product lots to test. Experiences?",
        ("biosimilar-comparability",),
        replies=(
            (
                "nour.elsayed",
                "Enough lots to see the reference product's variability over time, often 10 or "
                "more, bought over years. Agencies ask for the purchase dates and expiry.",
            ),
        ),
    ),
    TopicSpec(
        "regulatory",
        "tunde.adeyemi",
        Q,
        "Post-approval variation for a new filling line: which category?",
        "We are adding a second filling line of the same design in the same building. Is this "
        "a minor or a major variation for most agencies, and what data go with it?",
        ("post-approval-variations", "vial-and-syringe-filling"),
    ),
    TopicSpec(
        "careers",
        "laura.gomez",
        Q,
        "Moving from an academic lab into QC: what should I learn first?",
        "I have a master's in biochemistry and lab experience, and I want a QC analyst role. "
        "What should I learn first to be credible in interviews?",
        ("gmp-fundamentals", "analytical-method-validation"),
        replies=(
            (
                "camila.souza",
                "GMP basics and documentation habits (ALCOA+), then one method family in "
                "depth, such as HPLC. Be ready to explain an out-of-specification "
                "investigation. The hub's mentoring can match you with a QC mentor.",
            ),
            (
                "matias.rossi",
                "I made this move last year. Interviewers asked more about documentation and "
                "deviations than about science.",
            ),
        ),
        accept=1,
        reactions=((1, "laura.gomez", "thanks"), (2, "laura.gomez", "like")),
    ),
    TopicSpec(
        "careers",
        "rizky.pratama",
        D,
        "Good free courses on bioprocess engineering?",
        "Looking for free or cheap courses on bioprocess scale-up and design of experiments. "
        "Which did you find useful?",
        ("design-of-experiments", "scale-up-and-tech-transfer"),
        replies=(
            (
                "dewi.lestari",
                "Start with the hub's workshops on DoE, then practise on real data: plan a "
                "small screening design for a media study and analyse it yourself.",
            ),
        ),
    ),
    TopicSpec(
        "careers",
        "lucas.ferreira",
        D,
        "Shift work on the manufacturing floor: how do you keep learning?",
        "I'm on rotating shifts in upstream manufacturing. How do others find time and energy "
        "to keep studying?",
        ("bioreactor-operation",),
        replies=(
            (
                "rafael.lima",
                "Short and regular: 20 minutes after a shift, one topic a week. Ask to shadow "
                "the MSAT team on investigations; you learn more there than from any course.",
            ),
        ),
        reactions=((1, "lucas.ferreira", "thanks"),),
    ),
    TopicSpec(
        "careers",
        "andi.saputra",
        Q,
        "Interview question: explain a deviation you handled",
        "I have an interview for a production technician role. How should I answer 'tell us "
        "about a deviation you handled' if I have only lab experience?",
        ("deviation-investigation-and-capa", "gmp-fundamentals"),
        replies=(
            (
                "ciaran.walsh",
                "Use a lab example: something unexpected, how you documented it, who you told, "
                "what you found and what changed. Interviewers want to hear that you report "
                "and don't hide things.",
            ),
        ),
        accept=1,
    ),
    TopicSpec(
        "facilitators-lounge",
        "chinwe.eze",
        D,
        "Keeping online workshops interactive on slow connections",
        "Several participants join by phone on slow connections. How do you run polls and "
        "breakout discussions without leaving them behind?",
        (),
        replies=(
            (
                "daniel.okoro",
                "Send the material as a small PDF the day before, keep video optional, and use "
                "the chat and polls rather than breakout rooms. Read questions out loud.",
            ),
            (
                "yaw.boateng",
                "I repeat each poll question in the chat so people who lose the poll can still "
                "answer.",
            ),
        ),
        reactions=((1, "chinwe.eze", "like"), (2, "achieng.odhiambo", "like")),
    ),
    TopicSpec(
        "facilitators-lounge",
        "ciaran.walsh",
        D,
        "Case studies for a deviation and CAPA workshop",
        "I'm preparing a two-hour workshop on deviations and CAPA. Does anyone have "
        "anonymised case studies that work well with learners?",
        ("deviation-investigation-and-capa",),
        replies=(
            (
                "andres.castro",
                "I use a media fill failure and a mix-up of labels: both have several possible "
                "root causes, so groups disagree, which makes a good discussion.",
            ),
        ),
    ),
]


def _category(spec: CategorySpec, parents: dict[str, Category]) -> tuple[Category, bool]:
    category, created = Category.objects.get_or_create(
        slug=spec.slug,
        defaults={
            "name": spec.name,
            "description": spec.description,
            "position": [c.slug for c in CATEGORIES].index(spec.slug),
            "parent": parents.get(spec.parent),
            "required_role": spec.required_role,
        },
    )
    return category, created


def _play(spec: TopicSpec, category: Category, users: dict[str, User]) -> Topic:
    topic = topic_create(
        author=users[spec.author],
        category=category,
        title=spec.title,
        body=spec.body,
        kind=spec.kind,
        skills=spec.skills,
    )
    posts = [topic.posts.get(number=1)]
    for author, body in spec.replies:
        posts.append(post_create(author=users[author], topic=topic, body=body))
    if spec.accept is not None:
        answer_accept(user=users[spec.author], post=posts[spec.accept])
    if spec.verify is not None:
        number, mentor = spec.verify
        post_verify_set(user=users[mentor], post=posts[number])
    for number, username, kind in spec.reactions:
        reaction_set(user=users[username], post=posts[number], kind=kind)
    return topic


def seed_forums(stdout: _Writer | None = None) -> dict[str, int]:
    """Create the demo categories and topics (see the module docstring)."""
    names = {t.author for t in TOPICS}
    for t in TOPICS:
        names |= {a for a, _b in t.replies} | {u for _n, u, _k in t.reactions}
        names |= {t.verify[1]} if t.verify else set()
    users = {
        u.username: u
        for u in User.objects.filter(username__in=names, is_active=True).select_related("profile")
    }
    counts = {"categories": 0, "topics": 0, "posts": 0}
    with (
        override_settings(
            EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
            FORUM_TRUST_LIMITS_ENABLED=False,
        ),
        transaction.atomic(),
    ):
        categories: dict[str, Category] = {}
        for category_spec in CATEGORIES:
            categories[category_spec.slug], created = _category(category_spec, categories)
            counts["categories"] += created
        existing = set(
            Topic.objects.filter(title__in=[t.title for t in TOPICS]).values_list(
                "title", flat=True
            )
        )
        for spec in TOPICS:
            people = {spec.author, *(a for a, _b in spec.replies)}
            if spec.title in existing or not people <= users.keys():
                continue
            _play(spec, categories[spec.category], users)
            counts["topics"] += 1
            counts["posts"] += 1 + len(spec.replies)
    if stdout is not None:
        stdout.write(
            f"Forums demo: {counts['categories']} categories, {counts['topics']} topics and "
            f"{counts['posts']} posts created."
        )
    return counts
