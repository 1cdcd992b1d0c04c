"""The room's stream stays contiguous, and retries stay single, under concurrent writers
(PostgreSQL: real row locks and real concurrent transactions)."""

from collections.abc import Callable

import pytest

from tests.conftest import Race
from tests.workshops.test_room_support import (
    Room,
    client_id,
    make_poll,
    make_room,
    make_user,
    option_ids,
    register,
    room_layer,  # noqa: F401
)
from workshops.models import ChatMessage, Poll, RoomEvent, Vote, Workshop
from workshops.room import selectors, services

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("room_layer"),
]


@pytest.fixture(autouse=True)
def _no_rate_limit(settings) -> None:  # type: ignore[no-untyped-def]
    settings.ROOM_CHAT_RATE = (1000, 10)


def _writer(room: Room, user, n: int) -> Callable[[], object]:  # type: ignore[no-untyped-def]
    def write() -> object:
        for i in range(n):
            services.chat_message_post(
                workshop=room.workshop, user=user, client_id=client_id(), body=f"message {i}"
            )
        return n

    return write


def _moderator(room: Room, n: int) -> Callable[[], object]:
    def moderate() -> object:
        for i in range(n):
            services.room_participant_mute(
                workshop=room.workshop,
                actor=room.facilitator,
                user_id=room.other.pk,
                muted=not i % 2,
            )
        return n

    return moderate


def test_concurrent_writers_get_seqs_one_to_n_without_gaps_or_duplicates(race: Race) -> None:
    """Eight members chatting at once while a facilitator mutes and unmutes: 1..N exactly."""
    room = make_room()
    writers = [make_user("writer") for _ in range(8)]
    for user in writers:
        register(room.workshop, user)
    results = race([_writer(room, user, 6) for user in writers] + [_moderator(room, 6)])
    assert results == [6] * 9, results
    events = list(
        RoomEvent.objects.filter(workshop=room.workshop)
        .order_by("seq")
        .values_list("seq", "type", "data")
    )
    seqs = [seq for seq, _type, _data in events]
    assert seqs == list(range(1, len(events) + 1))
    assert Workshop.objects.get(pk=room.workshop.pk).last_seq == len(events)
    messages = {m.seq: m.pk for m in ChatMessage.objects.filter(workshop=room.workshop)}
    assert len(messages) == 48
    chat_events = {seq: data["id"] for seq, type_, data in events if type_ == "chat.message"}
    assert chat_events == messages
    # A client that saw any prefix receives exactly the rest.
    for after in (0, 17, len(events) - 1):
        missed = selectors.room_events_since(workshop=room.workshop, after_seq=after, limit=1000)
        assert missed is not None
        assert [e["seq"] for e in missed] == list(range(after + 1, len(events) + 1))


def test_a_retried_send_racing_itself_stores_one_message(race: Race) -> None:
    """The same client id sent six times at once: one message, one event, one "created"."""
    room = make_room()
    cid = client_id()

    def send() -> object:
        return services.chat_message_post(
            workshop=room.workshop, user=room.participant, client_id=cid, body="Only once"
        )

    results = race([send] * 6)
    assert all(isinstance(r, tuple) for r in results), results
    assert len({r[0].pk for r in results}) == 1  # type: ignore[index]
    assert sum(1 for r in results if r[1]) == 1  # type: ignore[index]
    assert ChatMessage.objects.filter(workshop=room.workshop).count() == 1
    assert list(RoomEvent.objects.values_list("seq", "type")) == [(1, "chat.message")]


def test_a_retried_poll_create_racing_itself_stores_one_poll(race: Race) -> None:
    """The same poll client id sent four times at once: one poll."""
    room = make_room()
    cid = client_id()

    def create() -> object:
        return services.poll_create(
            workshop=room.workshop,
            actor=room.facilitator,
            client_id=cid,
            question="Ready?",
            kind="single",
            options=["Yes", "No"],
            anonymous=False,
            results="live",
        )

    results = race([create] * 4)
    assert all(isinstance(r, tuple) for r in results), results
    assert Poll.objects.count() == 1
    assert sum(1 for r in results if r[1]) == 1  # type: ignore[index]


def test_concurrent_votes_keep_one_vote_per_member_and_count_every_member(race: Race) -> None:
    """One member voting from four tabs at once keeps one vote; twelve members, twelve."""
    room = make_room()
    poll = make_poll(room)
    ids = option_ids(poll)
    voters = [make_user("voter") for _ in range(12)]
    for user in voters:
        register(room.workshop, user)

    def vote(user, choice):  # type: ignore[no-untyped-def]
        return lambda: services.poll_vote_cast(
            workshop=room.workshop, user=user, poll_id=poll.pk, choices=[choice]
        )

    same_member = [vote(room.participant, ids[i % 3]) for i in range(4)]
    results = race(same_member + [vote(user, ids[0]) for user in voters])
    assert all(isinstance(r, Vote) for r in results), results
    assert Vote.objects.filter(poll=poll, voter=room.participant).count() == 1
    tally = selectors.poll_tally(poll=poll)
    assert tally["total_votes"] == 13
    assert sum(tally["counts"].values()) == 13


def test_votes_racing_the_close_are_counted_or_refused_never_lost(race: Race) -> None:
    """Votes racing the close: each is either counted or clearly refused."""
    room = make_room()
    poll = make_poll(room)
    ids = option_ids(poll)
    voters = [make_user("late") for _ in range(10)]
    for user in voters:
        register(room.workshop, user)
    calls: list[Callable[[], object]] = [
        (lambda u=user: services.poll_vote_cast(
            workshop=room.workshop, user=u, poll_id=poll.pk, choices=[ids[1]]
        ))
        for user in voters
    ]  # fmt: skip
    calls.append(
        lambda: services.poll_close(workshop=room.workshop, actor=room.facilitator, poll_id=poll.pk)
    )
    results = race(calls)
    accepted = [r for r in results[:-1] if isinstance(r, Vote)]
    refused = [r for r in results[:-1] if not isinstance(r, Vote)]
    assert all("poll_id" in getattr(r, "error_dict", {}) for r in refused), refused
    assert Vote.objects.filter(poll=poll).count() == len(accepted)
    closed = RoomEvent.objects.get(workshop=room.workshop, type="poll.closed")
    assert closed.data["tally"]["total_votes"] == len(accepted)
