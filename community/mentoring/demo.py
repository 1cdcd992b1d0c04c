"""Demo mentoring data for ``seed_demo``: mentors and mentees with realistic weekly
availability, mentorships in every state, and a programme with a proposed matching.

Everything goes through the services. Safe to run again: members whose mentoring is
already set up, pairs that already have a mentorship and an existing demo programme
are left alone. Demo data sends no e-mail.
"""

import datetime as dt
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from community.mentoring import services
from community.mentoring.availability import Window
from community.mentoring.models import MentoringProfile, Mentorship, MentorshipStatus, Programme
from community.models import Role, SkillLevel, User

DATA = Path(__file__).resolve().parents[1] / "data" / "demo_members.json"
PROGRAMME_NAME = "Upstream & QC mentoring cohort 2026"
PROGRAMME_OWNER = "chinwe.eze"
PROGRAMME_MENTORS = {"maya.patel": 2, "camila.souza": 2, "claudine.mukamana": 2, "tan.weiling": 2}
PROGRAMME_MENTEES = [
    "otieno_brian",
    "tran.minh.duc",
    "tanvir.hossain",
    "hira.qureshi",
    "paolo.reyes",
    "farhana.rahman",
    "ama.mensah",
    "andi.saputra",  # speaks only Indonesian: shows an unmatched mentee and the reason
]


class _Writer(Protocol):
    def write(self, msg: str) -> object: ...


@dataclass(frozen=True)
class Scenario:
    mentee: str
    mentor: str
    state: str
    message: str
    goals: str
    reason: str = ""


SCENARIOS = [
    Scenario(
        "tunde.adeyemi",
        "mamadou.ndiaye",
        MentorshipStatus.REQUESTED,
        "I have just moved from the lab to the production floor and would value someone "
        "to talk bioreactors and deviations with.",
        "Run a bioreactor campaign on my own\nUnderstand how deviations are investigated",
    ),
    Scenario(
        "wanjiru.kamau",
        "achieng.odhiambo",
        MentorshipStatus.ACTIVE,
        "Could you review my contamination control strategy notes against Annex 1?",
        "Draft a contamination control strategy\nPrepare for a sterility assurance role",
    ),
    Scenario(
        "uwase.diane",
        "maya.patel",
        MentorshipStatus.ACTIVE,
        "I'm building my QC skills and would like help structuring what to learn next.",
        "Validate an HPLC method\nPresent results to the QA team",
    ),
    Scenario(
        "jorge.vargas",
        "jonas.weber",
        MentorshipStatus.ACTIVE,
        "I'd like to learn how to plan a scale-up from bench to pilot.",
        "Plan a 50 L scale-up\nWrite my first batch record",
    ),
    Scenario(
        "arjun.mehta",
        "priya.raghavan",
        MentorshipStatus.COMPLETED,
        "Your talk on fed-batch feeding strategies was great; would you mentor me?",
        "Design a feeding strategy experiment\nRead a CHO process development paper a week",
        reason="We reached both goals in three months.",
    ),
    Scenario(
        "lucas.ferreira",
        "adaeze.okafor",
        MentorshipStatus.DECLINED,
        "Hello! I'm looking for guidance on a career in downstream purification.",
        "Move into downstream processing",
        reason="My places are taken until June; Camila Souza mentors in Portuguese "
        "and may have room.",
    ),
    Scenario(
        "ahmed.farouk",
        "andres.castro",
        MentorshipStatus.CANCELLED,
        "I want to understand GMP documentation better before my first audit.",
        "Get through my first GMP audit",
        reason="I have changed roles and no longer have the time; sorry!",
    ),
    Scenario(
        "rizky.pratama",
        "tan.weiling",
        MentorshipStatus.EXPIRED,
        "Could we talk about cell culture scale-up once a fortnight?",
        "Take over the seed train",
    ),
    Scenario(
        "aissatou.diop",
        "thomas.leroy",
        MentorshipStatus.WITHDRAWN,
        "Bonjour, je voudrais progresser en remplissage aseptique.",
        "Qualify as an aseptic operator",
    ),
]
SCENARIO_MENTORS = frozenset(s.mentor for s in SCENARIOS)


def _t(hour: int, minute: int = 0) -> dt.time:
    return dt.time(hour % 24, minute)


def _mentor_windows(rng: random.Random) -> list[Window]:
    """Two weekday evenings, an early morning, and a Friday lunch or a Saturday
    morning, in the mentor's own time zone."""
    start = rng.choice([(17, 0), (17, 30), (18, 0), (18, 30)])
    days = sorted(rng.sample(range(4), 2))
    windows = [Window(day, _t(*start), _t(start[0] + 2, start[1])) for day in days]
    windows.append(Window(rng.choice([d for d in range(5) if d not in days]), _t(7), _t(8, 30)))
    if rng.random() < 0.5:
        windows.append(Window(4, _t(12), _t(13, 30)))
    else:
        windows.append(Window(5, _t(8), _t(12)))
    return windows


def _learner_windows(rng: random.Random) -> list[Window]:
    """Two or three weekday evenings and a flexible weekend day, local time."""
    start = rng.choice([(18, 0), (19, 0), (19, 30)])
    days = sorted(rng.sample(range(5), rng.choice([2, 3])))
    windows = [Window(day, _t(*start), _t(start[0] + 3, start[1])) for day in days]
    windows.append(Window(rng.choice([5, 6]), _t(9), _t(17)))
    return windows


def _level_name(level: int) -> str:
    return str(SkillLevel(level).label).lower()


def _set_up(member: dict, user: User) -> bool:
    """Mentoring settings from the demo profile; False when already set up."""
    if MentoringProfile.objects.filter(user=user).exclude(mask_time_zone="").exists():
        return False
    rng = random.Random(f"mentoring:{member['username']}")
    roles = member.get("roles", [])
    skills = {s["slug"]: s["level"] for s in member.get("skills", [])}
    data: dict = {}
    if Role.MENTOR in roles:
        data.update(
            accepts_mentees=True,
            # Scenario mentors keep a free place for the demo mentorships.
            capacity=max(rng.randint(1, 4), 2 if user.username in SCENARIO_MENTORS else 1),
            offers_async=rng.random() < 0.4,
            mentor_skills={slug: level for slug, level in skills.items() if level >= 3},
            availability=_mentor_windows(rng),
        )
    elif Role.LEARNER in roles:
        weakest = sorted(skills.items(), key=lambda item: (item[1], item[0]))[:3]
        targets = {slug: (level, min(4, level + 2)) for slug, level in weakest if level < 4}
        names = dict(user.profile.skills.filter(slug__in=targets).values_list("slug", "name"))
        data.update(
            seeking_mentor=True,
            target_skills=targets,
            goals="\n".join(
                f"Grow from {_level_name(cur)} to {_level_name(tgt)} in {names[slug]}"
                for slug, (cur, tgt) in targets.items()
            ),
            availability=_learner_windows(rng),
        )
    else:
        return False
    services.mentoring_settings_update(user=user, data=data)
    return True


def _play(scenario: Scenario, mentee: User, mentor: User) -> None:
    """Take one mentorship through the services to its demo state."""
    mentorship = services.mentorship_request(
        mentee=mentee, mentor=mentor, message=scenario.message, goals=scenario.goals
    )
    state = scenario.state
    if state == MentorshipStatus.DECLINED:
        services.mentorship_decline(actor=mentor, mentorship=mentorship, reason=scenario.reason)
    elif state == MentorshipStatus.WITHDRAWN:
        services.mentorship_withdraw(actor=mentee, mentorship=mentorship)
    elif state == MentorshipStatus.EXPIRED:
        now = timezone.now()
        Mentorship.objects.filter(pk=mentorship.pk).update(
            requested_at=now - services.REQUEST_TTL - dt.timedelta(days=1),
            expires_at=now - dt.timedelta(days=1),
        )
        services.mentorship_requests_expire(now=now)
    elif state != MentorshipStatus.REQUESTED:
        mentorship = services.mentorship_accept(actor=mentor, mentorship=mentorship)
        goals = list(mentorship.goal_items.all())
        today = timezone.localdate()
        services.mentorship_session_log(
            actor=mentor,
            mentorship=mentorship,
            date=today - dt.timedelta(days=9),
            notes="First call: agreed on goals, how often to meet and how to share documents.",
            next_steps="Mentee sends a one-page summary of where they are now.",
        )
        if goals:
            services.mentorship_goal_progress(actor=mentee, goal=goals[0], progress=30)
        if state == MentorshipStatus.ACTIVE:
            services.mentorship_goal_add(
                actor=mentee, mentorship=mentorship, title="Shadow a batch review"
            )
        elif state == MentorshipStatus.CANCELLED:
            services.mentorship_cancel(actor=mentor, mentorship=mentorship, reason=scenario.reason)
        elif state == MentorshipStatus.COMPLETED:
            for goal in goals:
                services.mentorship_goal_progress(actor=mentee, goal=goal, progress=100)
            services.mentorship_complete(
                actor=mentee, mentorship=mentorship, reason=scenario.reason
            )
            services.mentorship_feedback_give(
                actor=mentee,
                mentorship=mentorship,
                rating=5,
                comment="Practical, generous with time, and honest about career choices.",
            )
            services.mentorship_feedback_give(
                actor=mentor,
                mentorship=mentorship,
                rating=4,
                comment="Well prepared for every session; keep writing things down.",
            )


def _programme(users: dict[str, User]) -> bool:
    owner = users.get(PROGRAMME_OWNER)
    if owner is None or Programme.objects.filter(owner=owner, name=PROGRAMME_NAME).exists():
        return False
    programme = services.programme_create(
        actor=owner,
        name=PROGRAMME_NAME,
        description="Six months of mentoring for early-career staff in upstream "
        "processing and QC, matched on skills, language and time zones.",
    )
    for username, places in PROGRAMME_MENTORS.items():
        if username in users:
            services.programme_member_add(
                actor=owner, programme=programme, user=users[username], role="mentor",
                capacity=places,
            )  # fmt: skip
    for username in PROGRAMME_MENTEES:
        if username in users:
            services.programme_member_add(
                actor=owner, programme=programme, user=users[username], role="mentee"
            )
    services.programme_match_run(actor=owner, programme=programme)
    return True


def seed_mentoring(stdout: _Writer | None = None) -> dict[str, int]:
    """Set up mentoring for the demo members (see the module docstring)."""
    members = json.loads(DATA.read_text(encoding="utf-8"))
    users = {
        user.username: user
        for user in User.objects.filter(
            username__in=[m["username"] for m in members], profile__isnull=False
        ).select_related("profile")
    }
    counts = {"members": 0, "mentorships": 0, "programmes": 0}
    with (
        override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"),
        transaction.atomic(),
    ):
        for member in members:
            user = users.get(member["username"])
            if user is not None and _set_up(member, user):
                counts["members"] += 1
        for scenario in SCENARIOS:
            mentee, mentor = users.get(scenario.mentee), users.get(scenario.mentor)
            if mentee is None or mentor is None:
                continue
            if Mentorship.objects.filter(mentee=mentee, mentor=mentor).exists():
                continue
            _play(scenario, mentee, mentor)
            counts["mentorships"] += 1
        counts["programmes"] += _programme(users)
    if stdout is not None:
        stdout.write(
            f"Mentoring demo: {counts['members']} members set up, "
            f"{counts['mentorships']} mentorships and {counts['programmes']} programme created."
        )
    return counts
