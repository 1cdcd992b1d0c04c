"""Every room action is authorised on its own: outsiders, removed participants and
participants trying facilitator actions are refused, and ids from another room are
"not found" in every action. A refused action changes nothing."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.utils import timezone

from tests.workshops.test_room_support import (
    Room,
    client_id,
    make_poll,
    make_room,
    option_ids,
    room_layer,  # noqa: F401
    say,
)
from workshops.models import (
    Attendance,
    ChatMessage,
    Poll,
    Registration,
    Vote,
    Workshop,
)
from workshops.room import services

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("room_layer")]


@dataclass
class Ids:
    message: int
    poll: int  # an open poll
    draft: int
    option: int
    user: int  # a participant to mute or remove


Action = Callable[[Room, Any, Ids], object]


def _setup(room: Room) -> Ids:
    message = say(room, user=room.other, body="A message")
    poll = make_poll(room)
    draft = make_poll(room, open_it=False)
    return Ids(message.pk, poll.pk, draft.pk, option_ids(poll)[0], room.other.pk)


FACILITATOR_ACTIONS: dict[str, Action] = {
    "delete another's message": lambda r, u, i: services.chat_message_delete(
        workshop=r.workshop, actor=u, message_id=i.message
    ),
    "start": lambda r, u, i: services.room_session_start(workshop=r.workshop, actor=u),
    "end": lambda r, u, i: services.room_session_end(workshop=r.workshop, actor=u),
    "lock": lambda r, u, i: services.room_chat_lock(workshop=r.workshop, actor=u, locked=True),
    "slow mode": lambda r, u, i: services.room_slow_mode(workshop=r.workshop, actor=u, seconds=5),
    "mute": lambda r, u, i: services.room_participant_mute(
        workshop=r.workshop, actor=u, user_id=i.user, muted=True
    ),
    "remove": lambda r, u, i: services.room_participant_remove(
        workshop=r.workshop, actor=u, user_id=i.user
    ),
    "create poll": lambda r, u, i: services.poll_create(
        workshop=r.workshop,
        actor=u,
        client_id=client_id(),
        question="Q?",
        kind="single",
        options=["a", "b"],
        anonymous=False,
        results="live",
    ),
    "open poll": lambda r, u, i: services.poll_open(workshop=r.workshop, actor=u, poll_id=i.draft),
    "close poll": lambda r, u, i: services.poll_close(workshop=r.workshop, actor=u, poll_id=i.poll),
    "reveal poll": lambda r, u, i: services.poll_reveal(
        workshop=r.workshop, actor=u, poll_id=i.poll
    ),
}

PARTICIPANT_ACTIONS: dict[str, Action] = {
    "join": lambda r, u, i: services.room_join(workshop=r.workshop, user=u),
    "chat": lambda r, u, i: services.chat_message_post(
        workshop=r.workshop, user=u, client_id=client_id(), body="Hi"
    ),
    "vote": lambda r, u, i: services.poll_vote_cast(
        workshop=r.workshop, user=u, poll_id=i.poll, choices=[i.option]
    ),
}


def _state(room: Room) -> tuple[object, ...]:
    """Everything a refused action must leave as it was."""
    workshop = Workshop.objects.get(pk=room.workshop.pk)
    return (
        workshop.last_seq,
        workshop.status,
        workshop.chat_locked,
        workshop.slow_mode_seconds,
        ChatMessage.objects.filter(deleted_at__isnull=True).count(),
        list(Poll.objects.order_by("pk").values_list("status", "revealed")),
        Vote.objects.count(),
        Attendance.objects.count(),
        list(Registration.objects.order_by("pk").values_list("status", "muted_at", "removed_at")),
    )


@pytest.mark.parametrize("action", FACILITATOR_ACTIONS, ids=str)
def test_participants_cannot_take_facilitator_actions(action: str) -> None:
    """A registered participant trying a facilitator action is refused; nothing changes."""
    room = make_room()
    ids = _setup(room)
    before = _state(room)
    with pytest.raises(PermissionDenied):
        FACILITATOR_ACTIONS[action](room, room.participant, ids)
    assert _state(room) == before


@pytest.mark.parametrize("action", [*FACILITATOR_ACTIONS, *PARTICIPANT_ACTIONS], ids=str)
def test_members_who_are_not_registered_can_do_nothing(action: str) -> None:
    """A member without a registration in a registration-required room is refused."""
    room = make_room()
    ids = _setup(room)
    before = _state(room)
    run = {**FACILITATOR_ACTIONS, **PARTICIPANT_ACTIONS}[action]
    with pytest.raises(PermissionDenied):
        run(room, room.outsider, ids)
    assert _state(room) == before


@pytest.mark.parametrize("action", [*PARTICIPANT_ACTIONS, "delete own message"], ids=str)
def test_removed_participants_can_do_nothing(action: str) -> None:
    """After removal, joining, chatting, voting and deleting are all refused."""
    room = make_room()
    ids = _setup(room)
    own = say(room, body="Before removal")
    services.room_participant_remove(
        workshop=room.workshop, actor=room.facilitator, user_id=room.participant.pk
    )
    before = _state(room)
    actions: dict[str, Action] = {
        **PARTICIPANT_ACTIONS,
        "delete own message": lambda r, u, i: services.chat_message_delete(
            workshop=r.workshop, actor=u, message_id=own.pk
        ),
    }
    with pytest.raises(PermissionDenied):
        actions[action](room, room.participant, ids)
    assert _state(room) == before


@pytest.mark.parametrize("action", FACILITATOR_ACTIONS, ids=str)
def test_facilitators_of_a_cancelled_workshop_can_do_nothing(action: str) -> None:
    """A cancelled workshop's room is closed to its facilitators too."""
    room = make_room()
    ids = _setup(room)
    Workshop.objects.filter(pk=room.workshop.pk).update(status="cancelled")
    room.workshop.refresh_from_db()
    before = _state(room)
    with pytest.raises(PermissionDenied):
        FACILITATOR_ACTIONS[action](room, room.facilitator, ids)
    assert _state(room) == before


# --- another room's ids -------------------------------------------------------------------
def _foreign_ids() -> Ids:
    """Ids of a message, polls, an option and a participant that belong to another room."""
    elsewhere = make_room()
    return _setup(elsewhere)


FOREIGN_ID_ACTIONS: dict[str, tuple[Action, Any]] = {
    "delete": (FACILITATOR_ACTIONS["delete another's message"], "facilitator"),
    "mute": (FACILITATOR_ACTIONS["mute"], "facilitator"),
    "remove": (FACILITATOR_ACTIONS["remove"], "facilitator"),
    "open poll": (FACILITATOR_ACTIONS["open poll"], "facilitator"),
    "close poll": (FACILITATOR_ACTIONS["close poll"], "facilitator"),
    "reveal poll": (FACILITATOR_ACTIONS["reveal poll"], "facilitator"),
    "vote": (PARTICIPANT_ACTIONS["vote"], "participant"),
    "delete as author": (
        lambda r, u, i: services.chat_message_delete(
            workshop=r.workshop, actor=u, message_id=i.message
        ),
        "other",
    ),
}


@pytest.mark.parametrize("action", FOREIGN_ID_ACTIONS, ids=str)
def test_ids_from_another_room_are_not_found(action: str) -> None:
    """A message, poll or person of another room is "not found" here, even to facilitators."""
    room = make_room()
    _setup(room)
    foreign = _foreign_ids()
    # The other room's participant is also its message's author: nothing here is theirs.
    before = _state(room)
    run, who = FOREIGN_ID_ACTIONS[action]
    with pytest.raises(ObjectDoesNotExist):
        run(room, getattr(room, who), foreign)
    assert _state(room) == before


def test_a_vote_with_another_rooms_option_in_this_rooms_poll_is_refused() -> None:
    """An option id of another room's poll is not a choice in this room's poll."""
    room = make_room()
    ids = _setup(room)
    foreign = _foreign_ids()
    with pytest.raises(ValidationError) as caught:
        services.poll_vote_cast(
            workshop=room.workshop,
            user=room.participant,
            poll_id=ids.poll,
            choices=[foreign.option],
        )
    assert "choices" in caught.value.error_dict
    assert not Vote.objects.filter(voter=room.participant).exists()


def test_unknown_ids_are_not_found() -> None:
    """Ids of nothing at all are "not found" too."""
    room = make_room()
    _setup(room)
    missing = Ids(message=10**9, poll=10**9, draft=10**9, option=1, user=10**9)
    for name in ("delete", "mute", "open poll", "vote"):
        run, who = FOREIGN_ID_ACTIONS[name]
        with pytest.raises(ObjectDoesNotExist):
            run(room, getattr(room, who), missing)


def test_a_muted_participant_may_still_vote_and_delete_their_own_message() -> None:
    """Mute stops writing only."""
    room = make_room()
    ids = _setup(room)
    own = say(room, body="Mine")
    Registration.objects.filter(user=room.participant).update(muted_at=timezone.now())
    PARTICIPANT_ACTIONS["vote"](room, room.participant, ids)
    services.chat_message_delete(workshop=room.workshop, actor=room.participant, message_id=own.pk)
    assert Vote.objects.filter(voter=room.participant).count() == 1
