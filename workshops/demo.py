"""Demo workshops for ``seed_demo``: upcoming and past workshops on the trade's topics,
run by the demo facilitators, with registrations (one workshop full, with a waitlist),
and for the past ones a live session's chat, attendance and a closed poll.

Everything goes through the services (scheduling and the live room's). A past workshop
is played as a session happening now and then moved back in time. Safe to run again: a
workshop whose title exists is left alone. Demo data sends no e-mail.
"""

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field
from typing import Protocol

from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from community.models import Profile, User
from workshops import services
from workshops.models import (
    Attendance,
    ChatMessage,
    Poll,
    Registration,
    RegistrationStatus,
    RoomEvent,
    Vote,
    Workshop,
)
from workshops.room import services as room
from workshops.room.selectors import iso


class _Writer(Protocol):
    def write(self, msg: str) -> object: ...


@dataclass(frozen=True)
class PollPlan:
    question: str
    options: list[str]
    votes: list[int]  # the option each participant picks, in participant order


@dataclass(frozen=True)
class Plan:
    title: str
    facilitator: str
    days: int  # from today, in the facilitator's zone (negative: in the past)
    at: tuple[int, int]  # local start hour and minute
    minutes: int
    skills: list[str]
    description: str
    co: list[str] = field(default_factory=list)
    language: str = "en"
    capacity: int = 40
    open: bool = False
    participants: list[str] = field(default_factory=list)
    chat: list[tuple[str, str]] = field(default_factory=list)  # (username, text)
    poll: PollPlan | None = None
    cancel_one: bool = False  # a registered member cancels: the waitlist moves up


PLANS = [
    Plan(
        title="GMP deviation investigations and CAPA",
        facilitator="achieng.odhiambo",
        co=["valeria.hernandez"],
        days=3,
        at=(15, 0),
        minutes=90,
        capacity=40,
        skills=["deviation-investigation-and-capa", "quality-risk-management"],
        description=(
            "From the first phone call to an effective CAPA: how to scope a deviation, "
            "gather facts before opinions, find the root cause with 5 Whys and "
            "fishbone diagrams, and write CAPAs that an inspector will accept.\n\n"
            "**Bring** a deviation report from your site (anonymised) if you can.\n\n"
            "- Classifying deviations: minor, major, critical\n"
            "- Root cause versus contributing factors\n"
            "- Measuring CAPA effectiveness"
        ),
        participants=[
            "wanjiru.kamau",
            "otieno_brian",
            "tunde.adeyemi",
            "aminu.bello",
            "ama.mensah",
            "uwase.diane",
            "lerato.mokoena",
            "ahmed.farouk",
            "arjun.mehta",
            "hira.qureshi",
            "paolo.reyes",
            "jorge.vargas",
        ],
    ),
    Plan(
        title="Protein A chromatography troubleshooting",
        facilitator="daniel.okoro",
        co=["adaeze.okafor"],
        days=6,
        at=(7, 30),
        minutes=75,
        capacity=30,
        skills=["protein-a-affinity-chromatography", "column-packing-and-qualification"],
        description=(
            "High back-pressure, yield loss, leached Protein A, early breakthrough: we "
            "walk through real chromatograms and decide what to check first.\n\n"
            "Adaeze Okafor shares ten years of column packing and resin lifetime studies."
        ),
        participants=[
            "tran.minh.duc",
            "farhana.rahman",
            "tanvir.hossain",
            "lucas.ferreira",
            "rizky.pratama",
            "diego.ramirez",
            "lukas.meier",
            "salma.elidrissi",
        ],
    ),
    Plan(
        title="Aseptic process simulation: planning your media fill",
        facilitator="mamadou.ndiaye",
        co=["ciaran.walsh"],
        days=9,
        at=(14, 0),
        minutes=120,
        capacity=8,
        skills=["media-fill-aseptic-process-simulation", "aseptic-technique-and-gowning"],
        description=(
            "Worst-case design, interventions, duration, incubation and reading the "
            "results, in line with EU GMP Annex 1 (2022). Small group so that everyone "
            "can present their own media fill plan."
        ),
        participants=[
            "aissatou.diop",
            "sneha_kulkarni",
            "sofia.gimenez",
            "otieno_brian",
            "uwase.diane",
            "tunde.adeyemi",
            "matias.rossi",
            "rosa.quispe",
            "laura.gomez",
            "hira.qureshi",
            "andi.saputra",
        ],
        cancel_one=True,
    ),
    Plan(
        title="mRNA-LNP formulation basics",
        facilitator="andres.castro",
        co=["maya.patel"],
        days=14,
        at=(10, 0),
        minutes=90,
        capacity=60,
        skills=["lipid-nanoparticle-formulation", "mrna-analytics"],
        description=(
            "What each of the four lipids does, microfluidic mixing, N/P ratio, "
            "encapsulation efficiency and particle size: the critical quality attributes "
            "of an mRNA-LNP drug product, and how they are measured."
        ),
        participants=[
            "arjun.mehta",
            "ahmed.farouk",
            "lerato.mokoena",
            "diego.ramirez",
            "paolo.reyes",
        ],
    ),
    Plan(
        title="Cold chain excursions: what to do in the first hour",
        facilitator="chinwe.eze",
        days=2,
        at=(18, 0),
        minutes=60,
        open=True,
        skills=["cold-chain-management"],
        description=(
            "A temperature logger alarms at a district store. Who do you call, what do "
            "you quarantine, and which data does QA need to decide on the vaccines? "
            "Open session: no registration needed."
        ),
        participants=["aminu.bello", "maria.santos"],
    ),
    Plan(
        title="Investigación de desviaciones y CAPA en la práctica",
        facilitator="rafael.lima",
        co=["andres.castro"],
        days=5,
        at=(19, 0),
        minutes=90,
        language="es",
        capacity=25,
        skills=["deviation-investigation-and-capa", "batch-record-review-and-release"],
        description=(
            "Casos reales de desviaciones en llenado y liberación de lotes: cómo "
            "investigar, documentar y cerrar CAPAs eficaces."
        ),
        participants=["laura.gomez", "rosa.quispe", "matias.rossi", "jorge.vargas"],
    ),
    Plan(
        title="Data integrity (ALCOA+) in the QC laboratory",
        facilitator="ciaran.walsh",
        co=["mod.kim"],
        days=-10,
        at=(13, 0),
        minutes=90,
        capacity=30,
        skills=["data-integrity-alcoa", "hplc-and-uplc-methods"],
        description=(
            "Audit trails, shared log-ins, reprocessing chromatograms and hybrid "
            "paper-electronic records: the data integrity findings inspectors keep "
            "writing, and how to prevent them."
        ),
        participants=[
            "farhana.rahman",
            "tanvir.hossain",
            "uwase.diane",
            "ama.mensah",
            "tran.minh.duc",
            "hira.qureshi",
        ],
        chat=[
            ("ciaran.walsh", "Welcome, everyone! We start in two minutes."),
            ("farhana.rahman", "Hello from Dhaka 👋"),
            ("uwase.diane", "Hi from Kigali!"),
            ("ciaran.walsh", "Quick question to start: who has had an audit trail finding?"),
            ("tanvir.hossain", "We had one on **disabled audit trails** on an old HPLC."),
            ("ama.mensah", "Is reprocessing a chromatogram ever acceptable?"),
            ("mod.kim", "Yes, with a documented scientific reason, and the original kept."),
            ("tran.minh.duc", "What about shared log-ins on standalone balances?"),
            ("ciaran.walsh", "Never: each action must be attributable. See the slides."),
            ("hira.qureshi", "Thank you, this was very practical!"),
        ],
        poll=PollPlan(
            question="Which ALCOA+ principle is hardest to meet at your site?",
            options=["Attributable", "Contemporaneous", "Original", "Complete"],
            votes=[1, 0, 1, 3, 1, 2],
        ),
    ),
    Plan(
        title="Single-use systems: extractables and leachables basics",
        facilitator="daniel.okoro",
        co=["kim.jiyeon"],
        days=-21,
        at=(8, 0),
        minutes=60,
        capacity=40,
        skills=["single-use-systems", "scale-up-and-tech-transfer"],
        description=(
            "Bags, tubing and connectors: what extractables and leachables studies "
            "suppliers give you, and what you still have to assess yourself."
        ),
        participants=["arjun.mehta", "lukas.meier", "rizky.pratama", "salma.elidrissi"],
        chat=[
            ("daniel.okoro", "Good morning and good evening, all."),
            ("arjun.mehta", "Do supplier E&L data cover our process conditions?"),
            ("kim.jiyeon", "Only if their model solvents and times bracket yours."),
            ("lukas.meier", "Useful, thanks. Slides shared after?"),
            ("daniel.okoro", "Yes: on the workshop page tomorrow."),
        ],
        poll=PollPlan(
            question="Do you use single-use bioreactors at your site?",
            options=["Yes, in GMP production", "Only in development", "Not yet"],
            votes=[0, 1, 2, 1],
        ),
    ),
]


def _local_start(days: int, at: tuple[int, int], zone_name: str, now: dt.datetime) -> dt.datetime:
    """A naive wall-clock start in the facilitator's zone, ``days`` from today there."""
    day = now.astimezone(zoneinfo.ZoneInfo(zone_name)).date() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(*at))


def _play_session(plan: Plan, workshop: Workshop, users: dict[str, User]) -> None:
    """Run a live session through the room services: joins, chat, a poll, leaves."""
    host = users[plan.facilitator]
    people = [users[name] for name in plan.participants if name in users]
    room.room_session_start(workshop=workshop, actor=host)
    everyone = [host, *[users[n] for n in plan.co if n in users], *people]
    stays = {user.pk: room.room_join(workshop=workshop, user=user) for user in everyone}
    half = len(plan.chat) // 2
    for i, (username, text) in enumerate(plan.chat[:half]):
        if username in users:
            room.chat_message_post(
                workshop=workshop, user=users[username], client_id=f"demo-{i}", body=text
            )
    if plan.poll is not None:
        poll, _created = room.poll_create(
            workshop=workshop,
            actor=host,
            client_id="demo-poll",
            question=plan.poll.question,
            kind="single",
            options=plan.poll.options,
            anonymous=False,
            results="live",
        )
        room.poll_open(workshop=workshop, actor=host, poll_id=poll.pk)
        option_ids = list(poll.options.order_by("position").values_list("pk", flat=True))
        for user, pick in zip(people, plan.poll.votes, strict=False):
            room.poll_vote_cast(
                workshop=workshop, user=user, poll_id=poll.pk, choices=[option_ids[pick]]
            )
        room.poll_close(workshop=workshop, actor=host, poll_id=poll.pk)
    for i, (username, text) in enumerate(plan.chat[half:], start=half):
        if username in users:
            room.chat_message_post(
                workshop=workshop, user=users[username], client_id=f"demo-{i}", body=text
            )
    for attendance in stays.values():
        room.room_leave(attendance_id=attendance.pk)
    room.room_session_end(workshop=workshop, actor=host)


def _move_to_past(workshop: Workshop, start: dt.datetime, plan: Plan) -> None:
    """Put a played session at ``start`` (UTC): the schedule, the session, attendance
    (some arrive late, some leave early, one reconnects), chat, events, votes."""
    end = start + dt.timedelta(minutes=plan.minutes)
    live_start, live_end = start + dt.timedelta(minutes=2), end - dt.timedelta(minutes=3)
    Workshop.objects.filter(pk=workshop.pk).update(
        starts_at=start, ends_at=end, live_started_at=live_start, live_ended_at=live_end
    )
    Registration.objects.filter(workshop=workshop).update(created_at=start - dt.timedelta(days=4))
    stays = list(Attendance.objects.filter(workshop=workshop).order_by("id"))
    for i, stay in enumerate(stays):
        joined = live_start + dt.timedelta(minutes=(i * 3) % 11)
        left = live_end - dt.timedelta(minutes=(i * 7) % 23)
        Attendance.objects.filter(pk=stay.pk).update(joined_at=joined, left_at=left)
    if len(stays) > 2:  # a dropped connection: a second, overlapping stay
        again = stays[2]
        Attendance.objects.create(
            workshop=workshop,
            user_id=again.user_id,
            joined_at=live_start + dt.timedelta(minutes=30),
            left_at=live_end,
        )
    events = list(RoomEvent.objects.filter(workshop=workshop).order_by("seq"))
    step = (live_end - live_start) / max(len(events) + 1, 2)
    when = {event.seq: live_start + step * (i + 1) for i, event in enumerate(events)}
    when[events[0].seq] = live_start
    when[events[-1].seq] = live_end
    for event in events:
        data = dict(event.data)
        if event.type == "chat.message":
            data["created_at"] = iso(when[event.seq])
        elif event.type == "session.started":
            data["live_started_at"] = iso(live_start)
        elif event.type == "session.ended":
            data["live_ended_at"] = iso(live_end)
        RoomEvent.objects.filter(pk=event.pk).update(created_at=when[event.seq], data=data)
    for message in ChatMessage.objects.filter(workshop=workshop):
        ChatMessage.objects.filter(pk=message.pk).update(created_at=when[message.seq])
    for poll in Poll.objects.filter(workshop=workshop):
        seqs = {
            event.type: event.seq
            for event in events
            if event.type in ("poll.opened", "poll.closed") and event.data.get("id") == poll.pk
        }
        opened, closed = when[seqs["poll.opened"]], when[seqs["poll.closed"]]
        Poll.objects.filter(pk=poll.pk).update(
            created_at=opened - dt.timedelta(minutes=2), opened_at=opened, closed_at=closed
        )
        Vote.objects.filter(poll=poll).update(cast_at=opened + (closed - opened) / 2)


def _schedule(plan: Plan, users: dict[str, User], now: dt.datetime) -> Workshop:
    host = users[plan.facilitator]
    zone = Profile.objects.get(user=host).time_zone
    past = plan.days < 0
    # A past workshop is scheduled for tomorrow, played now and moved back afterwards.
    start_local = _local_start(1 if past else plan.days, plan.at, zone, now)
    workshop = services.workshop_create(
        actor=host,
        title=plan.title,
        description=plan.description,
        skills=plan.skills,
        facilitators=[name for name in plan.co if name in users],
        starts_at=start_local,
        ends_at=start_local + dt.timedelta(minutes=plan.minutes),
        time_zone=zone,
        language=plan.language,
        capacity=plan.capacity,
        registration_required=not plan.open,
    )
    registrations = [
        services.registration_create(workshop=workshop, user=users[name])
        for name in plan.participants
        if name in users
    ]
    if plan.cancel_one:
        seated = [r for r in registrations if r.status == RegistrationStatus.REGISTERED]
        services.registration_cancel(actor=seated[1].user, registration=seated[1])
    if past:
        _play_session(plan, workshop, users)
        real_start = services.to_utc(
            _local_start(plan.days, plan.at, zone, now), zoneinfo.ZoneInfo(zone), "starts_at"
        )
        _move_to_past(workshop, real_start, plan)
    return workshop


def seed_workshops(stdout: _Writer | None = None) -> dict[str, int]:
    """Schedule the demo workshops (see the module docstring)."""
    names = {n for plan in PLANS for n in [plan.facilitator, *plan.co, *plan.participants]}
    users = {
        user.username: user
        for user in User.objects.filter(username__in=names, profile__isnull=False)
    }
    existing = set(
        Workshop.objects.filter(title__in=[p.title for p in PLANS]).values_list("title", flat=True)
    )
    counts = {"workshops": 0, "registrations": 0}
    now = timezone.now()
    with (
        override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"),
        transaction.atomic(),
    ):
        for plan in PLANS:
            if plan.title in existing or plan.facilitator not in users:
                continue
            workshop = _schedule(plan, users, now)
            counts["workshops"] += 1
            counts["registrations"] += workshop.registrations.exclude(
                status=RegistrationStatus.CANCELLED
            ).count()
    if stdout is not None:
        stdout.write(
            f"Workshops demo: {counts['workshops']} workshops and "
            f"{counts['registrations']} registrations created."
        )
    return counts
