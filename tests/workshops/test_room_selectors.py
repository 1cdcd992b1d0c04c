"""The live room's reads: who may enter, the snapshot, presence and the stream."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from community.models import User
from tests.workshops.test_room_support import (
    make_poll,
    make_room,
    make_workshop,
    many_messages,
    register,
    say,
)
from workshops.models import Attendance, Registration, RegistrationStatus, Workshop
from workshops.room import selectors, services

pytestmark = pytest.mark.django_db


# --- room_access ---------------------------------------------------------------------------
def test_facilitators_and_registered_participants_enter() -> None:
    """A facilitator (without a registration) and a registered participant may enter."""
    room = make_room()
    as_facilitator = selectors.room_access(workshop_id=room.workshop.pk, user=room.facilitator)
    assert as_facilitator.is_facilitator
    assert as_facilitator.registration is None
    assert as_facilitator.workshop == room.workshop
    as_participant = selectors.room_access(workshop_id=room.workshop.pk, user=room.participant)
    assert not as_participant.is_facilitator
    assert as_participant.registration is not None
    assert as_participant.registration.user == room.participant


@pytest.mark.parametrize(
    "status", [None, RegistrationStatus.WAITLISTED, RegistrationStatus.CANCELLED]
)
def test_members_without_a_seat_are_refused(status: str | None) -> None:
    """Not registered, waitlisted or cancelled: a registration-required room refuses."""
    room = make_room()
    if status:
        register(room.workshop, room.outsider, status=status)
    with pytest.raises(PermissionDenied):
        selectors.room_access(workshop_id=room.workshop.pk, user=room.outsider)


def test_a_removed_participant_is_refused() -> None:
    """A participant a facilitator removed cannot come back."""
    room = make_room()
    Registration.objects.filter(user=room.participant).update(removed_at=timezone.now())
    with pytest.raises(PermissionDenied):
        selectors.room_access(workshop_id=room.workshop.pk, user=room.participant)


def test_an_open_workshop_admits_any_member_but_not_the_removed() -> None:
    """Without registration required, any signed-in member enters, unless removed."""
    room = make_room(registration_required=False)
    access = selectors.room_access(workshop_id=room.workshop.pk, user=room.outsider)
    assert access.registration is None
    Registration.objects.create(
        workshop=room.workshop,
        user=room.outsider,
        status=RegistrationStatus.CANCELLED,
        removed_at=timezone.now(),
    )
    with pytest.raises(PermissionDenied):
        selectors.room_access(workshop_id=room.workshop.pk, user=room.outsider)


def test_a_cancelled_workshop_refuses_everyone() -> None:
    """Nobody enters a cancelled workshop's room, its facilitators included."""
    room = make_room(status="cancelled")
    for user in (room.facilitator, room.participant):
        with pytest.raises(PermissionDenied):
            selectors.room_access(workshop_id=room.workshop.pk, user=user)


def test_visitors_and_deactivated_members_are_refused() -> None:
    """Anonymous visitors and deactivated accounts never enter."""
    room = make_room(registration_required=False)
    with pytest.raises(PermissionDenied):
        selectors.room_access(workshop_id=room.workshop.pk, user=AnonymousUser())
    room.participant.is_active = False
    room.participant.save()
    with pytest.raises(PermissionDenied):
        selectors.room_access(workshop_id=room.workshop.pk, user=room.participant)


def test_an_unknown_workshop_is_not_found() -> None:
    """An id that is no workshop raises DoesNotExist."""
    room = make_room()
    with pytest.raises(Workshop.DoesNotExist):
        selectors.room_access(workshop_id=room.workshop.pk + 1000, user=room.facilitator)


def test_facilitating_another_workshop_gives_no_rights_here() -> None:
    """A facilitator of another workshop is an outsider in this one."""
    room = make_room()
    elsewhere = make_workshop(room.outsider)
    assert elsewhere.facilitators.filter(pk=room.outsider.pk).exists()
    with pytest.raises(PermissionDenied):
        selectors.room_access(workshop_id=room.workshop.pk, user=room.outsider)


# --- presence -----------------------------------------------------------------------------
def test_presence_counts_people_not_sockets_and_marks_facilitators() -> None:
    """Two tabs are one person; facilitators are listed apart; who left is gone."""
    room = make_room()
    services.room_join(workshop=room.workshop, user=room.participant)
    services.room_join(workshop=room.workshop, user=room.participant)
    services.room_join(workshop=room.workshop, user=room.facilitator)
    gone = services.room_join(workshop=room.workshop, user=room.other)
    services.room_leave(attendance_id=gone.pk)
    now = selectors.presence(workshop_id=room.workshop.pk)
    assert now["count"] == 2
    assert now["facilitators"] == [
        {"id": room.facilitator.pk, "username": room.facilitator.username, "name": "Seo-yeon Park"}
    ]
    assert now["members"] == [
        {"id": room.participant.pk, "username": room.participant.username, "name": "Amara Diallo"}
    ]


def test_presence_lists_at_most_200_members_but_counts_all() -> None:
    """A big room: the count is exact, the names stop at 200."""
    room = make_room(registration_required=False)
    users = User.objects.bulk_create(
        User(username=f"crowd{i}", email=f"crowd{i}@example.org") for i in range(205)
    )
    now = timezone.now()
    Attendance.objects.bulk_create(
        Attendance(workshop=room.workshop, user=user, joined_at=now) for user in users
    )
    present = selectors.presence(workshop_id=room.workshop.pk)
    assert present["count"] == 205
    assert len(present["members"]) == 200


# --- the snapshot -------------------------------------------------------------------------------
def test_the_snapshot_has_state_chat_polls_presence_and_you() -> None:
    """A late joiner gets the state, recent chat oldest first, open polls and presence."""
    room = make_room()
    services.room_join(workshop=room.workshop, user=room.participant)
    first = say(room, body="First")
    second = say(room, user=room.other, body="Second")
    gone = say(room, body="Oops")
    services.chat_message_delete(workshop=room.workshop, actor=room.facilitator, message_id=gone.pk)
    poll = make_poll(room)
    draft = make_poll(room, open_it=False)
    snap = selectors.room_snapshot(workshop=room.workshop, user=room.participant)
    assert snap["workshop"] == {
        "id": room.workshop.pk,
        "title": "GMP deviations and CAPA",
        "status": "scheduled",
        "chat_locked": False,
        "slow_mode_seconds": 0,
        "live_started_at": None,
        "live_ended_at": None,
    }
    assert snap["seq"] == selectors.Workshop.objects.get(pk=room.workshop.pk).last_seq == 5
    assert [m["id"] for m in snap["chat"]] == [first.pk, second.pk]
    assert snap["chat"][1]["author"]["name"] == "Lucas Souza"
    assert snap["chat"][0]["html"] == "<p>First</p>\n"
    assert [p["id"] for p in snap["polls"]] == [poll.pk]
    assert snap["presence"]["count"] == 1
    assert snap["you"] == {"id": room.participant.pk, "is_facilitator": False, "muted": False}
    as_facilitator = selectors.room_snapshot(workshop=room.workshop, user=room.facilitator)
    assert [p["id"] for p in as_facilitator["polls"]] == [poll.pk, draft.pk]
    assert as_facilitator["you"]["is_facilitator"]


def test_the_snapshot_keeps_the_last_50_messages() -> None:
    """Only the 50 newest messages, oldest of them first."""
    room = make_room()
    messages = many_messages(room, 53)
    chat = selectors.room_snapshot(workshop=room.workshop, user=room.participant)["chat"]
    assert [m["id"] for m in chat] == [m.pk for m in messages[3:]]


def test_the_snapshot_tells_a_muted_participant() -> None:
    """A muted participant's snapshot says so."""
    room = make_room()
    services.room_participant_mute(
        workshop=room.workshop, actor=room.facilitator, user_id=room.participant.pk, muted=True
    )
    assert selectors.room_snapshot(workshop=room.workshop, user=room.participant)["you"]["muted"]
    assert not selectors.room_snapshot(workshop=room.workshop, user=room.other)["you"]["muted"]


def test_the_snapshot_costs_the_same_queries_however_full_the_room(
    django_assert_max_num_queries,
) -> None:
    """Query count does not grow with messages, polls, votes or people."""
    room = make_room()
    for i in range(5):
        say(room, user=room.facilitator, body=f"m{i}")
        poll = make_poll(room)
        services.poll_vote_cast(
            workshop=room.workshop,
            user=room.participant,
            poll_id=poll.pk,
            choices=[poll.options.first().pk],
        )
    for user in (room.participant, room.other, room.facilitator):
        services.room_join(workshop=room.workshop, user=user)
    with django_assert_max_num_queries(8):
        selectors.room_snapshot(workshop=room.workshop, user=room.facilitator)


# --- the stream -----------------------------------------------------------------------------------
def _events(room, after: int, limit: int = 500):  # type: ignore[no-untyped-def]
    return selectors.room_events_since(workshop=room.workshop, after_seq=after, limit=limit)


def test_events_since_returns_exactly_what_was_missed_in_order() -> None:
    """After seq N: every later event once, in order, as protocol messages."""
    room = make_room()
    hello = say(room, body="Hello")
    services.room_chat_lock(workshop=room.workshop, actor=room.facilitator, locked=True)
    services.room_session_start(workshop=room.workshop, actor=room.facilitator)
    events = _events(room, after=1)
    assert events == [
        {"type": "chat.locked", "seq": 2, "data": {"locked": True}},
        {
            "type": "session.started",
            "seq": 3,
            "data": {
                "status": "live",
                "live_started_at": events[1]["data"]["live_started_at"],
            },
        },
    ]
    everything = _events(room, after=0)
    assert [e["seq"] for e in everything] == [1, 2, 3]
    assert everything[0]["type"] == "chat.message"
    assert everything[0]["data"]["id"] == hello.pk
    assert _events(room, after=3) == []


def test_events_since_says_reload_past_the_backlog() -> None:
    """More missing than the limit, or a seq the room never reached: None (reload)."""
    room = make_room()
    for i in range(5):
        services.room_slow_mode(workshop=room.workshop, actor=room.facilitator, seconds=i + 1)
    assert [e["seq"] for e in _events(room, after=1, limit=4)] == [2, 3, 4, 5]
    assert _events(room, after=0, limit=4) is None
    assert _events(room, after=6) is None
    assert _events(room, after=-1) is None


def test_events_since_does_not_mix_rooms() -> None:
    """Another room's events never appear in this room's stream."""
    room = make_room()
    other_room = make_room()
    say(other_room, body="Elsewhere")
    say(room, body="Here")
    events = _events(room, after=0)
    assert [e["data"]["html"] for e in events] == ["<p>Here</p>\n"]


def test_events_page_pages_through_history() -> None:
    """The REST history: pages of events with has_more, and the room's last seq."""
    room = make_room()
    for i in range(5):
        services.room_slow_mode(workshop=room.workshop, actor=room.facilitator, seconds=i + 1)
    events, has_more, last = selectors.room_events_page(
        workshop=room.workshop, after_seq=0, limit=3
    )
    assert [e["seq"] for e in events] == [1, 2, 3]
    assert has_more
    assert last == 5
    events, has_more, last = selectors.room_events_page(
        workshop=room.workshop, after_seq=3, limit=3
    )
    assert [e["seq"] for e in events] == [4, 5]
    assert not has_more


def test_attendance_is_recorded_with_times() -> None:
    """Joining and leaving record the times of each stay."""
    room = make_room()
    stay = services.room_join(workshop=room.workshop, user=room.participant)
    assert stay.left_at is None
    assert stay.joined_at is not None
    services.room_leave(attendance_id=stay.pk)
    stay.refresh_from_db()
    assert stay.left_at is not None
    assert stay.left_at >= stay.joined_at
