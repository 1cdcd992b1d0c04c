"""The live room's chat, moderation and session: what is stored, what is streamed and
broadcast, and what is refused."""

import datetime as dt
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from community.models import User
from tests.workshops.test_room_support import (
    broadcasts,
    client_id,
    last_seq,
    make_poll,
    make_room,
    make_user,
    register,
    room_layer,  # noqa: F401
    say,
    stream,
)
from workshops.models import (
    Attendance,
    ChatMessage,
    Poll,
    Registration,
    RegistrationStatus,
    RoomEvent,
    Workshop,
)
from workshops.room import selectors, services

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("room_layer")]


def _code(exc: ValidationError, field: str = "body") -> str:
    return exc.error_dict[field][0].code


def _frames(messages: list[dict]) -> list[dict]:  # type: ignore[type-arg]
    """The room events among the broadcast messages, decoded."""
    return [json.loads(m["text"]) for m in messages if m["type"] == "room.frame"]


def _post(room, user, body="Hello", cid=None):  # type: ignore[no-untyped-def]
    return services.chat_message_post(
        workshop=room.workshop, user=user, client_id=cid or client_id(), body=body
    )


# --- chat: posting ------------------------------------------------------------------------
def test_a_message_is_stored_rendered_streamed_and_broadcast(
    django_capture_on_commit_callbacks,
) -> None:
    """A message is rendered Markdown-lite, gets seq 1, and is broadcast after commit."""
    room = make_room()
    with broadcasts(room.workshop, django_capture_on_commit_callbacks) as sent:
        message, created = _post(room, room.participant, "**Deviation** found in `lot 42`")
    assert created
    assert message.body_html == "<p><strong>Deviation</strong> found in <code>lot 42</code></p>\n"
    assert message.seq == 1
    assert stream(room.workshop) == [(1, "chat.message")]
    frames = _frames(sent)
    assert len(frames) == 1
    assert frames[0] == {
        "type": "chat.message",
        "seq": 1,
        "data": {
            "id": message.pk,
            "seq": 1,
            "client_id": message.client_id,
            "author": {
                "id": room.participant.pk,
                "username": room.participant.username,
                "name": "Amara Diallo",
            },
            "html": message.body_html,
            "created_at": message.created_at.isoformat(),
        },
    }
    assert RoomEvent.objects.get(workshop=room.workshop, seq=1).data == frames[0]["data"]


def test_html_in_a_message_is_shown_as_text() -> None:
    """Raw HTML and script links never reach other participants as markup."""
    room = make_room()
    message = say(room, body="<script>alert(1)</script> [x](javascript:alert(1))\n# Shout")
    assert "<script>" not in message.body_html
    assert "&lt;script&gt;" in message.body_html
    assert 'href="javascript' not in message.body_html
    assert "<h1>" not in message.body_html


def test_a_retry_with_the_same_client_id_returns_the_original(
    django_capture_on_commit_callbacks,
) -> None:
    """Sending again with the same client id stores and broadcasts nothing new."""
    room = make_room()
    cid = client_id()
    first, created = _post(room, room.participant, "Hello", cid)
    assert created
    with broadcasts(room.workshop, django_capture_on_commit_callbacks) as sent:
        again, created_again = _post(room, room.participant, "Hello (edited?)", cid)
    assert not created_again
    assert again.pk == first.pk
    assert again.body == "Hello"
    assert sent == []
    assert ChatMessage.objects.filter(workshop=room.workshop).count() == 1
    assert last_seq(room.workshop) == 1


def test_the_same_client_id_from_another_member_is_another_message() -> None:
    """Client ids are per author: two members' "c1" are two messages."""
    room = make_room()
    a, _ = _post(room, room.participant, "Hi", "c1")
    b, created = _post(room, room.other, "Hi", "c1")
    assert created
    assert a.pk != b.pk


def test_a_batch_posts_in_order_and_answers_each_message_as_alone(
    django_capture_on_commit_callbacks,
) -> None:
    """Queued sends posted together: each gets what a lone post would have had (new,
    a retry, a refusal), and the new ones take the next seqs in order, broadcast once."""
    room = make_room()
    earlier, _ = _post(room, room.participant, "Earlier", "c0")
    with broadcasts(room.workshop, django_capture_on_commit_callbacks) as sent:
        results = services.chat_messages_post(
            workshop=room.workshop,
            user=room.participant,
            items=[("c1", "First"), ("c2", "   "), ("c0", "retry"), ("c3", "Third"), ("c1", "x")],
        )
    first, blank, retry, third, twice = results
    assert isinstance(first, tuple)
    assert isinstance(third, tuple)
    assert isinstance(blank, ValidationError)
    assert (first[0].seq, first[1], third[0].seq, third[1]) == (2, True, 3, True)
    assert _code(blank) == "required"
    assert retry == (earlier, False)
    assert twice == (first[0], False)
    assert [(f["seq"], f["data"]["id"]) for f in _frames(sent)] == [
        (2, first[0].pk),
        (3, third[0].pk),
    ]
    assert stream(room.workshop) == [(1, "chat.message"), (2, "chat.message"), (3, "chat.message")]
    assert list(
        ChatMessage.objects.filter(workshop=room.workshop).order_by("seq").values_list("body")
    ) == [("Earlier",), ("First",), ("Third",)]


def test_a_batch_stops_at_the_rate_limit_message_by_message(settings) -> None:  # type: ignore[no-untyped-def]
    """The per-member rate limit counts the messages of a batch one by one."""
    settings.ROOM_CHAT_RATE = (2, 60)
    room = make_room()
    results = services.chat_messages_post(
        workshop=room.workshop,
        user=room.participant,
        items=[(f"r{i}", f"Message {i}") for i in range(4)],
    )
    assert [isinstance(r, tuple) for r in results] == [True, True, False, False]
    assert all(_code(r) == "rate_limited" for r in results[2:])  # type: ignore[arg-type]
    assert last_seq(room.workshop) == 2


def test_a_batch_costs_the_same_queries_as_one_message(  # type: ignore[no-untyped-def]
    django_assert_num_queries, django_assert_max_num_queries
) -> None:
    """Posting 20 queued messages takes as many queries as posting one."""
    room = make_room()
    _post(room, room.facilitator, "warm")  # the author's profile is loaded once per user
    with django_assert_max_num_queries(9) as one:
        services.chat_messages_post(
            workshop=room.workshop, user=room.facilitator, items=[("one", "One")]
        )
    with django_assert_num_queries(len(one.captured_queries)):
        services.chat_messages_post(
            workshop=room.workshop,
            user=room.facilitator,
            items=[(f"b{i}", f"Batch {i}") for i in range(20)],
        )
    assert last_seq(room.workshop) == 22


def test_posts_of_several_members_together_take_seqs_in_order_each_answered_alone(
    settings,  # type: ignore[no-untyped-def]
    django_capture_on_commit_callbacks,
) -> None:
    """The chat posts of a room's sockets written together: seqs in the order given,
    each member's retries, rate limit and mute apply to them alone, and a member who may
    not be in the room is refused without holding up the others."""
    settings.ROOM_CHAT_RATE = (2, 60)
    room = make_room()
    earlier, _ = _post(room, room.other, "Earlier", "o0")
    muted = make_user("muted")
    register(room.workshop, muted)
    services.room_participant_mute(
        workshop=room.workshop, actor=room.facilitator, user_id=muted.pk, muted=True
    )
    before = last_seq(room.workshop)
    with broadcasts(room.workshop, django_capture_on_commit_callbacks) as sent:
        outcome = services.chat_posts(
            workshop=room.workshop,
            posts=[
                (room.participant, [("p1", "One"), ("p2", "Two"), ("p3", "Three")]),
                (room.outsider, [("x1", "Let me in")]),
                (room.other, [("o0", "retry"), ("o1", "Other")]),
                (muted, [("m1", "Hush")]),
                (room.facilitator, [("f1", "Welcome")]),
            ],
        )
    participant, outsider, other, hushed, facilitator = outcome
    assert isinstance(outsider, PermissionDenied)
    assert isinstance(participant, list)
    assert isinstance(other, list)
    assert isinstance(hushed, list)
    assert isinstance(facilitator, list)
    one, two, three = participant
    assert isinstance(one, tuple)
    assert isinstance(two, tuple)
    assert _code(three) == "rate_limited"  # type: ignore[arg-type]
    assert other[0] == (earlier, False)
    assert isinstance(other[1], tuple)
    assert other[1][1] is True
    assert isinstance(hushed[0], PermissionDenied)
    assert isinstance(facilitator[0], tuple)
    new = [one[0], two[0], other[1][0], facilitator[0][0]]
    assert [m.seq for m in new] == [before + 1, before + 2, before + 3, before + 4]
    assert [f["data"]["id"] for f in _frames(sent)] == [m.pk for m in new]
    assert last_seq(room.workshop) == before + 4


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("", "required"),
        ("   \n\t ", "required"),
        (None, "required"),
        (42, "required"),
        ("x" * 2001, "max_length"),
    ],
)
def test_bad_bodies_are_refused_and_nothing_is_stored(body: object, code: str) -> None:
    """Empty, whitespace-only, not text, or over 2000 characters: refused, nothing kept."""
    room = make_room()
    with pytest.raises(ValidationError) as caught:
        _post(room, room.participant, body)
    assert _code(caught.value) == code
    assert not ChatMessage.objects.exists()
    assert last_seq(room.workshop) == 0


def test_exactly_2000_characters_is_allowed() -> None:
    """The limit is inclusive."""
    room = make_room()
    message, created = _post(room, room.participant, "y" * 2000)
    assert created
    assert len(message.body) == 2000


@pytest.mark.parametrize("cid", ["", "   ", None, 7, "z" * 65])
def test_bad_client_ids_are_refused(cid: object) -> None:
    """A client id is a non-empty text of at most 64 characters."""
    room = make_room()
    with pytest.raises(ValidationError) as caught:
        services.chat_message_post(
            workshop=room.workshop, user=room.participant, client_id=cid, body="Hi"
        )
    assert "client_id" in caught.value.error_dict
    assert not ChatMessage.objects.exists()


def test_chat_is_open_before_the_start_and_live_but_not_after_the_end() -> None:
    """People can say hello before the start; once ended the chat is closed."""
    room = make_room()
    say(room, body="Before the start")
    services.room_session_start(workshop=room.workshop, actor=room.facilitator)
    say(room, body="During")
    services.room_session_end(workshop=room.workshop, actor=room.facilitator)
    for user in (room.participant, room.facilitator):
        with pytest.raises(ValidationError) as caught:
            _post(room, user, "After")
        assert _code(caught.value) == "chat_closed"
    assert ChatMessage.objects.count() == 2


def test_a_locked_chat_refuses_participants_but_not_facilitators() -> None:
    """While locked only facilitators write; unlocked, everyone again."""
    room = make_room()
    services.room_chat_lock(workshop=room.workshop, actor=room.facilitator, locked=True)
    with pytest.raises(ValidationError) as caught:
        _post(room, room.participant, "Can I ask?")
    assert _code(caught.value) == "chat_locked"
    say(room, user=room.facilitator, body="Please hold questions")
    services.room_chat_lock(workshop=room.workshop, actor=room.facilitator, locked=False)
    say(room, body="Now I can ask")


def test_a_muted_participant_cannot_write_until_unmuted() -> None:
    """Muted: PermissionDenied and nothing stored; unmuted: writes again."""
    room = make_room()
    services.room_participant_mute(
        workshop=room.workshop, actor=room.facilitator, user_id=room.participant.pk, muted=True
    )
    with pytest.raises(PermissionDenied):
        _post(room, room.participant, "Spam")
    assert not ChatMessage.objects.exists()
    say(room, user=room.other, body="Others still can")
    services.room_participant_mute(
        workshop=room.workshop, actor=room.facilitator, user_id=room.participant.pk, muted=False
    )
    say(room, body="Back")


def test_slow_mode_allows_one_message_per_period_except_for_facilitators() -> None:
    """Slow mode: a second message too soon is refused; once the period passed, it goes."""
    room = make_room()
    services.room_slow_mode(workshop=room.workshop, actor=room.facilitator, seconds=30)
    first = say(room, body="One")
    with pytest.raises(ValidationError) as caught:
        _post(room, room.participant, "Two")
    assert _code(caught.value) == "slow_mode"
    say(room, user=room.other, body="Someone else is not slowed by me")
    say(room, user=room.facilitator, body="Facilitator 1")
    say(room, user=room.facilitator, body="Facilitator 2")
    ChatMessage.objects.filter(pk=first.pk).update(
        created_at=timezone.now() - dt.timedelta(seconds=31)
    )
    say(room, body="Two, later")


def test_the_rate_limit_refuses_a_burst(settings) -> None:
    """Over the per-member rate the next message is refused; others and facilitators not."""
    settings.ROOM_CHAT_RATE = (3, 60)
    room = make_room()
    for i in range(3):
        say(room, body=f"burst {i}")
    with pytest.raises(ValidationError) as caught:
        _post(room, room.participant, "one too many")
    assert _code(caught.value) == "rate_limited"
    say(room, user=room.other, body="Not limited by someone else")
    for i in range(5):
        say(room, user=room.facilitator, body=f"facilitator {i}")
    assert ChatMessage.objects.filter(author=room.participant).count() == 3


def test_a_rolled_back_post_leaves_and_broadcasts_nothing(
    django_capture_on_commit_callbacks,
) -> None:
    """Persist, then broadcast: a write that rolls back sends nothing and uses no seq."""
    room = make_room()

    def doomed() -> None:
        with transaction.atomic():
            say(room, body="Never happened")
            services.room_chat_lock(workshop=room.workshop, actor=room.facilitator, locked=True)
            raise RuntimeError("rolled back")

    with broadcasts(room.workshop, django_capture_on_commit_callbacks) as sent:
        with pytest.raises(RuntimeError):
            doomed()
        kept = say(room, body="This one stays")
    assert [f["data"].get("id") for f in _frames(sent)] == [kept.pk]
    assert kept.seq == 1
    assert stream(room.workshop) == [(1, "chat.message")]
    assert not Workshop.objects.get(pk=room.workshop.pk).chat_locked


# --- chat: deleting -----------------------------------------------------------------------
def test_a_facilitator_deletes_a_message_for_everyone(
    django_capture_on_commit_callbacks,
) -> None:
    """Deleted: gone from the snapshot, its stored event blanked, "chat.deleted" sent."""
    room = make_room()
    message = say(room, body="Something rude")
    with broadcasts(room.workshop, django_capture_on_commit_callbacks) as sent:
        services.chat_message_delete(
            workshop=room.workshop, actor=room.facilitator, message_id=message.pk
        )
    message.refresh_from_db()
    assert message.deleted_at is not None
    assert message.deleted_by == room.facilitator
    assert _frames(sent) == [{"type": "chat.deleted", "seq": 2, "data": {"id": message.pk}}]
    assert selectors.room_snapshot(workshop=room.workshop, user=room.other)["chat"] == []
    replay = selectors.room_events_since(workshop=room.workshop, after_seq=0)
    assert replay is not None
    assert "rude" not in json.dumps(replay)
    assert replay[0]["data"]["deleted"] is True
    assert replay[1] == {"type": "chat.deleted", "seq": 2, "data": {"id": message.pk}}


def test_deleting_twice_changes_nothing_more() -> None:
    """A second delete is a no-op: no second event."""
    room = make_room()
    message = say(room)
    for _ in range(2):
        services.chat_message_delete(
            workshop=room.workshop, actor=room.facilitator, message_id=message.pk
        )
    assert stream(room.workshop) == [(1, "chat.message"), (2, "chat.deleted")]


def test_authors_delete_their_own_messages_only() -> None:
    """A participant deletes their own message; another's is refused."""
    room = make_room()
    mine = say(room, body="Typo")
    theirs = say(room, user=room.other, body="Mine")
    services.chat_message_delete(workshop=room.workshop, actor=room.participant, message_id=mine.pk)
    with pytest.raises(PermissionDenied):
        services.chat_message_delete(
            workshop=room.workshop, actor=room.participant, message_id=theirs.pk
        )
    theirs.refresh_from_db()
    assert theirs.deleted_at is None


@pytest.mark.parametrize("bad", ["12", None, True, 1.5])
def test_deleting_with_a_malformed_id_is_refused(bad: object) -> None:
    """Message ids are whole numbers."""
    room = make_room()
    say(room)
    with pytest.raises(ValidationError):
        services.chat_message_delete(workshop=room.workshop, actor=room.facilitator, message_id=bad)
    assert stream(room.workshop) == [(1, "chat.message")]


# --- the session --------------------------------------------------------------------------
def test_starting_and_ending_the_session(django_capture_on_commit_callbacks) -> None:
    """Start: live with its time; end: ended with its time; both streamed and broadcast."""
    room = make_room()
    workshop = room.workshop
    with broadcasts(workshop, django_capture_on_commit_callbacks) as sent:
        started = services.room_session_start(workshop=workshop, actor=room.facilitator)
    assert started.status == workshop.status == "live"
    assert workshop.live_started_at is not None
    assert _frames(sent) == [
        {
            "type": "session.started",
            "seq": 1,
            "data": {"status": "live", "live_started_at": workshop.live_started_at.isoformat()},
        }
    ]
    services.room_session_start(workshop=workshop, actor=room.facilitator)  # no-op
    services.room_session_end(workshop=workshop, actor=room.facilitator)
    services.room_session_end(workshop=workshop, actor=room.facilitator)  # no-op
    fresh = Workshop.objects.get(pk=workshop.pk)
    assert fresh.status == "ended"
    assert fresh.live_ended_at is not None
    assert stream(workshop) == [(1, "session.started"), (2, "session.ended")]


def test_an_ended_session_cannot_restart_and_an_unstarted_one_cannot_end() -> None:
    """Invalid transitions are refused with an error and change nothing."""
    room = make_room()
    with pytest.raises(ValidationError) as caught:
        services.room_session_end(workshop=room.workshop, actor=room.facilitator)
    assert "status" in caught.value.error_dict
    services.room_session_start(workshop=room.workshop, actor=room.facilitator)
    services.room_session_end(workshop=room.workshop, actor=room.facilitator)
    with pytest.raises(ValidationError):
        services.room_session_start(workshop=room.workshop, actor=room.facilitator)
    assert Workshop.objects.get(pk=room.workshop.pk).status == "ended"


def test_ending_the_session_closes_open_polls_first() -> None:
    """Open polls close (with their events) before "session.ended"; drafts stay drafts."""
    room = make_room()
    services.room_session_start(workshop=room.workshop, actor=room.facilitator)
    poll = make_poll(room)
    draft = make_poll(room, open_it=False)
    services.room_session_end(workshop=room.workshop, actor=room.facilitator)
    assert stream(room.workshop) == [
        (1, "session.started"),
        (2, "poll.opened"),
        (3, "poll.closed"),
        (4, "session.ended"),
    ]
    assert Poll.objects.get(pk=poll.pk).status == "closed"
    assert Poll.objects.get(pk=draft.pk).status == "draft"


def test_locking_the_chat_is_streamed_once_per_change() -> None:
    """Lock, lock again (no-op), unlock: two events."""
    room = make_room()
    for locked in (True, True, False):
        services.room_chat_lock(workshop=room.workshop, actor=room.facilitator, locked=locked)
    events = selectors.room_events_since(workshop=room.workshop, after_seq=0)
    assert events is not None
    assert [(e["type"], e["data"]) for e in events] == [
        ("chat.locked", {"locked": True}),
        ("chat.locked", {"locked": False}),
    ]


@pytest.mark.parametrize("bad", ["yes", 1, None])
def test_locking_takes_a_boolean(bad: object) -> None:
    """Anything but true or false is refused."""
    room = make_room()
    with pytest.raises(ValidationError) as caught:
        services.room_chat_lock(workshop=room.workshop, actor=room.facilitator, locked=bad)
    assert "locked" in caught.value.error_dict
    assert last_seq(room.workshop) == 0


def test_slow_mode_is_set_and_streamed() -> None:
    """Slow mode takes 0 to 600 seconds; each change is an event."""
    room = make_room()
    services.room_slow_mode(workshop=room.workshop, actor=room.facilitator, seconds=600)
    services.room_slow_mode(workshop=room.workshop, actor=room.facilitator, seconds=0)
    events = selectors.room_events_since(workshop=room.workshop, after_seq=0)
    assert events is not None
    assert [e["data"] for e in events] == [{"seconds": 600}, {"seconds": 0}]
    assert room.workshop.slow_mode_seconds == 0


@pytest.mark.parametrize("bad", [-1, 601, "30", True, None, 2.5])
def test_slow_mode_refuses_bad_values(bad: object) -> None:
    """Out of range or not a whole number: refused, nothing changes."""
    room = make_room()
    with pytest.raises(ValidationError) as caught:
        services.room_slow_mode(workshop=room.workshop, actor=room.facilitator, seconds=bad)
    assert "seconds" in caught.value.error_dict
    assert Workshop.objects.get(pk=room.workshop.pk).slow_mode_seconds == 0


# --- participants -------------------------------------------------------------------------
def test_muting_and_unmuting_is_stored_and_streamed() -> None:
    """Mute sets muted_at and streams it; unmute clears it; repeats are no-ops."""
    room = make_room()
    uid = room.participant.pk
    for muted in (True, True, False):
        services.room_participant_mute(
            workshop=room.workshop, actor=room.facilitator, user_id=uid, muted=muted
        )
    events = selectors.room_events_since(workshop=room.workshop, after_seq=0)
    assert events is not None
    assert [(e["type"], e["data"]) for e in events] == [
        ("participant.muted", {"user_id": uid, "muted": True}),
        ("participant.muted", {"user_id": uid, "muted": False}),
    ]
    assert Registration.objects.get(user_id=uid).muted_at is None


def test_muting_a_visitor_of_an_open_workshop_takes_no_seat() -> None:
    """In an open workshop a visitor (no registration) can be muted; it takes no seat."""
    room = make_room(registration_required=False)
    services.room_join(workshop=room.workshop, user=room.outsider)
    services.room_participant_mute(
        workshop=room.workshop, actor=room.facilitator, user_id=room.outsider.pk, muted=True
    )
    registration = Registration.objects.get(workshop=room.workshop, user=room.outsider)
    assert registration.status == RegistrationStatus.CANCELLED
    assert registration.muted_at is not None
    with pytest.raises(PermissionDenied):
        _post(room, room.outsider, "hello?")


def test_facilitators_cannot_be_muted_or_removed() -> None:
    """A co-facilitator is not a participant to mute or remove."""
    room = make_room()
    room.workshop.facilitators.add(room.other)
    with pytest.raises(ValidationError):
        services.room_participant_mute(
            workshop=room.workshop, actor=room.facilitator, user_id=room.other.pk, muted=True
        )
    with pytest.raises(ValidationError):
        services.room_participant_remove(
            workshop=room.workshop, actor=room.facilitator, user_id=room.other.pk
        )
    assert last_seq(room.workshop) == 0


@pytest.mark.parametrize(("bad_id", "bad_flag"), [("1", "1"), (None, None), (False, 0)])
def test_participant_ids_and_flags_are_checked(bad_id: object, bad_flag: object) -> None:
    """A user id is a whole number and "muted" is a boolean."""
    room = make_room()
    with pytest.raises(ValidationError):
        services.room_participant_mute(
            workshop=room.workshop, actor=room.facilitator, user_id=bad_id, muted=True
        )
    with pytest.raises(ValidationError):
        services.room_participant_mute(
            workshop=room.workshop,
            actor=room.facilitator,
            user_id=room.participant.pk,
            muted=bad_flag,
        )
    with pytest.raises(ValidationError):
        services.room_participant_remove(
            workshop=room.workshop, actor=room.facilitator, user_id=bad_id
        )
    assert last_seq(room.workshop) == 0


def test_removing_a_participant_closes_their_sockets_for_good(
    django_capture_on_commit_callbacks,
) -> None:
    """Removed: streamed, their sockets kicked, their stay ended, and they cannot return."""
    room = make_room()
    stay = services.room_join(workshop=room.workshop, user=room.participant)
    with broadcasts(room.workshop, django_capture_on_commit_callbacks) as sent:
        services.room_participant_remove(
            workshop=room.workshop, actor=room.facilitator, user_id=room.participant.pk
        )
    kinds = [m["type"] for m in sent]
    assert kinds.count("room.kick") == 1
    kick = next(m for m in sent if m["type"] == "room.kick")
    assert kick["user_id"] == room.participant.pk
    assert _frames(sent) == [
        {"type": "participant.removed", "seq": 1, "data": {"user_id": room.participant.pk}}
    ]
    assert any(m["type"] == "room.dirty" and m["what"] == "presence" for m in sent)
    stay.refresh_from_db()
    assert stay.left_at is not None
    with pytest.raises(PermissionDenied):
        selectors.room_access(workshop_id=room.workshop.pk, user=room.participant)
    with pytest.raises(PermissionDenied):
        services.room_join(workshop=room.workshop, user=room.participant)
    services.room_participant_remove(
        workshop=room.workshop, actor=room.facilitator, user_id=room.participant.pk
    )
    assert last_seq(room.workshop) == 1


# --- presence -----------------------------------------------------------------------------
def test_join_and_leave_tell_the_room_that_presence_changed(
    django_capture_on_commit_callbacks,
) -> None:
    """Join and leave each send a presence "dirty" note; they are not stream events."""
    room = make_room()
    with broadcasts(room.workshop, django_capture_on_commit_callbacks) as sent:
        stay = services.room_join(workshop=room.workshop, user=room.participant)
        services.room_leave(attendance_id=stay.pk)
        services.room_leave(attendance_id=stay.pk)  # a second leave is a no-op
    assert [(m["type"], m["what"]) for m in sent] == [
        ("room.dirty", "presence"),
        ("room.dirty", "presence"),
    ]
    assert last_seq(room.workshop) == 0


def test_joining_is_refused_to_outsiders_and_leaving_needs_a_real_stay() -> None:
    """An outsider cannot join; an unknown stay id is not found."""
    room = make_room()
    with pytest.raises(PermissionDenied):
        services.room_join(workshop=room.workshop, user=room.outsider)
    assert not Attendance.objects.exists()
    with pytest.raises(Attendance.DoesNotExist):
        services.room_leave(attendance_id=987654)


def test_a_waitlisted_member_promoted_can_join() -> None:
    """Access follows the registration: waitlisted no, registered yes."""
    room = make_room()
    waiting = register(room.workshop, room.outsider, status=RegistrationStatus.WAITLISTED)
    with pytest.raises(PermissionDenied):
        services.room_join(workshop=room.workshop, user=room.outsider)
    waiting.status = RegistrationStatus.REGISTERED
    waiting.save()
    assert services.room_join(workshop=room.workshop, user=room.outsider).user == room.outsider


def test_unknown_users_are_not_found() -> None:
    """A user id of nobody in this room (or nobody at all) is DoesNotExist."""
    room = make_room()
    for uid in (room.outsider.pk, 10**9):
        with pytest.raises(User.DoesNotExist):
            services.room_participant_mute(
                workshop=room.workshop, actor=room.facilitator, user_id=uid, muted=True
            )
