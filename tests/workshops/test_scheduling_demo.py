"""The workshops demo data: past and upcoming workshops by the demo facilitators, with
registrations and a waitlist, and for past ones chat, attendance and a closed poll."""

import json
from pathlib import Path

import pytest
from django.core import mail
from django.utils import timezone

from community.models import Profile
from tests.factories import make_member
from workshops.demo import PLANS, seed_workshops
from workshops.models import (
    Attendance,
    ChatMessage,
    PollStatus,
    RegistrationStatus,
    RoomEvent,
    Vote,
    Workshop,
    WorkshopStatus,
)

pytestmark = pytest.mark.django_db

DEMO_MEMBERS = Path(__file__).resolve().parents[2] / "community" / "data" / "demo_members.json"


@pytest.fixture
def demo_people() -> None:
    """The demo members the workshops need, with their roles and time zones."""
    wanted = {name for plan in PLANS for name in [plan.facilitator, *plan.co, *plan.participants]}
    for member in json.loads(DEMO_MEMBERS.read_text(encoding="utf-8")):
        if member["username"] in wanted:
            make_member(
                member["username"],
                display_name=member["display_name"],
                roles=tuple(member["roles"]),
                time_zone=member.get("time_zone", "UTC"),
            )
    make_member("mod.kim", display_name="Kim Moderator", roles=("professional", "facilitator"),
                time_zone="Asia/Seoul")  # fmt: skip


def test_demo_workshops_are_varied_and_realistic(demo_people) -> None:
    """Upcoming and past workshops, by facilitators, one full with a waitlist, one open,
    one not in English; past ones have an ended session, chat, attendance and a poll."""
    counts = seed_workshops()
    assert counts["workshops"] == len(PLANS) == Workshop.objects.count()
    now = timezone.now()
    upcoming = Workshop.objects.filter(starts_at__gt=now, status=WorkshopStatus.SCHEDULED)
    past = Workshop.objects.filter(ends_at__lt=now, status=WorkshopStatus.ENDED)
    assert upcoming.count() >= 4
    assert past.count() >= 2
    titles = set(Workshop.objects.values_list("title", flat=True))
    assert {"GMP deviation investigations and CAPA", "mRNA-LNP formulation basics"} <= titles
    for created in Workshop.objects.all():
        creator = Profile.objects.get(user=created.created_by)
        assert creator.is_facilitator, created.title
        assert created.facilitators.filter(pk=created.created_by_id).exists()
        assert created.skills.exists(), created.title
    assert upcoming.filter(registration_required=False).exists()
    assert Workshop.objects.exclude(language="en").exists()
    full = [
        w for w in upcoming if w.registrations.filter(status=RegistrationStatus.WAITLISTED).exists()
    ]
    assert len(full) == 1
    assert full[0].registrations.filter(status="registered").count() == full[0].capacity
    assert full[0].registrations.filter(promoted_at__isnull=False).exists()
    for ended in past:
        seqs = list(RoomEvent.objects.filter(workshop=ended).values_list("seq", flat=True))
        assert seqs == list(range(1, ended.last_seq + 1)), ended.title
        assert ChatMessage.objects.filter(workshop=ended).count() >= 5
        messages = ChatMessage.objects.filter(workshop=ended)
        assert all(ended.starts_at <= m.created_at <= ended.ends_at for m in messages)
        (poll,) = ended.polls.all()
        assert poll.status == PollStatus.CLOSED
        assert Vote.objects.filter(poll=poll).count() >= 3
        stays = Attendance.objects.filter(workshop=ended)
        assert stays.count() >= 4
        assert all(stay.left_at is not None and stay.joined_at >= ended.starts_at for stay in stays)
    assert mail.outbox == []


def test_seeding_again_changes_nothing(demo_people) -> None:
    """A second run creates no workshop and no registration."""
    seed_workshops()
    before = (Workshop.objects.count(), RoomEvent.objects.count(), ChatMessage.objects.count())
    registrations = sorted(
        Workshop.objects.values_list("registrations__user__username", "registrations__status")
    )
    assert seed_workshops() == {"workshops": 0, "registrations": 0}
    after = (Workshop.objects.count(), RoomEvent.objects.count(), ChatMessage.objects.count())
    assert after == before
    assert registrations == sorted(
        Workshop.objects.values_list("registrations__user__username", "registrations__status")
    )
