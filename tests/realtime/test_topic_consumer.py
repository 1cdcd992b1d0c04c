"""The forum topic socket (/ws/forums/topics/<id>/) through the real ASGI stack.

Sockets are channels' WebsocketCommunicator on the test's own channel layer (in-memory,
and Redis for the tests that request ``layer``); topics, posts and their stream events
are made through the forum services on the test database. Absence is proven by order:
a ``ping`` sent afterwards must be answered before anything else arrives.
"""

from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.db import transaction
from django.db.models import F

from community.forums.models import Category, Topic, TopicEvent
from community.forums.services.moderation import topic_delete, topic_merge, topic_move
from community.models import User
from realtime.consumers.topic import MAX_BACKLOG, TopicConsumer
from realtime.protocol import CloseCode
from tests.factories import make_member
from tests.forums.factories import make_category, make_moderator, make_post, make_topic
from tests.realtime.sockets import Sockets, ping, recv, recv_close, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

to_thread = database_sync_to_async
WAIT = 5


def topic_path(topic_id: int, query: str = "") -> str:
    return f"/ws/forums/topics/{topic_id}/" + (f"?{query}" if query else "")


async def session_for(user: User | None) -> Any:
    return await to_thread(sign_in)(user) if user is not None else None


async def open_topic(
    sockets: Sockets, topic_id: int, user: User | None = None, query: str = ""
) -> tuple[Any, dict[str, Any]]:
    """Connect and return the socket and its ``hello``."""
    comm = sockets.make(topic_path(topic_id, query), session=await session_for(user))
    connected, _ = await comm.connect(timeout=WAIT)
    assert connected, "the socket was refused"
    hello = await recv(comm)
    assert hello["type"] == "hello", hello
    return comm, hello


async def refused(sockets: Sockets, topic_id: int, user: User | None = None) -> int:
    """Insist that the socket is closed before any event arrives; return the code."""
    comm = sockets.make(topic_path(topic_id), session=await session_for(user))
    connected, code = await comm.connect(timeout=WAIT)
    if connected:
        message = await comm.receive_output(timeout=WAIT)
        assert message["type"] == "websocket.close", message
        code = message.get("code")
    return int(code or 1000)


async def nothing_more(comm: Any) -> None:
    """Nothing is queued on the socket: a ping is answered first."""
    pong = await ping(comm, "end")
    assert (pong["type"], pong.get("ref")) == ("pong", "end"), pong


async def stream(comm: Any, count: int) -> list[dict[str, Any]]:
    return [await recv(comm) for _ in range(count)]


def seqs(events: list[dict[str, Any]]) -> list[int]:
    return [e["seq"] for e in events]


def append_unbroadcast(topic_id: int, type_: str = "post.reactions") -> int:
    """Commit a stream event whose broadcast is lost (the channel layer dropped it)."""
    with transaction.atomic():
        Topic.objects.select_for_update().get(pk=topic_id)
        Topic.objects.filter(pk=topic_id).update(last_seq=F("last_seq") + 1)
        seq = Topic.objects.values_list("last_seq", flat=True).get(pk=topic_id)
        TopicEvent.objects.create(
            topic_id=topic_id, seq=seq, type=type_, data={"id": 0, "number": 0, "counts": {}}
        )
    return int(seq)


def new_moderator(username: str) -> User:
    """A moderator (transactional tests flush the migration's Moderators group)."""
    from django.contrib.auth.models import Group, Permission

    group, _ = Group.objects.get_or_create(name="Moderators")
    group.permissions.add(
        Permission.objects.get(codename="moderate_community", content_type__app_label="community")
    )
    return make_moderator(username)


def move(topic_id: int, category: Category) -> None:
    """A moderator moves the topic (the moderation service appends "topic.moved")."""
    topic_move(
        moderator=new_moderator("mover"), topic=Topic.objects.get(pk=topic_id), category=category
    )


def delete(topic_id: int) -> None:
    """A moderator deletes the topic ("topic.updated" with is_deleted)."""
    topic_delete(moderator=new_moderator("deleter"), topic=Topic.objects.get(pk=topic_id))


def merge(topic_id: int, into: Topic) -> None:
    topic_merge(
        moderator=new_moderator(f"merger{topic_id}"),
        topic=Topic.objects.get(pk=topic_id),
        into=Topic.objects.get(pk=into.pk),
    )


@pytest.fixture
def author(db: None) -> User:
    return make_member("ngozi", display_name="Ngozi Eze").user


@pytest.fixture
def topic(author: User) -> Topic:
    return make_topic(author=author, title="Viability drops on day 9 of a CHO fed-batch")


@pytest.fixture
def lounge(db: None) -> Category:
    return make_category(slug="lounge", name="Facilitators' lounge", required_role="facilitator")


# --- who may connect -----------------------------------------------------------------------
async def test_anonymous_reader_of_a_public_topic_connects(sockets: Sockets, topic: Topic):
    """Reading a public category needs no account: hello carries the topic's last seq."""
    await to_thread(make_post)(topic=topic, body="Check the glucose feed.")
    comm, hello = await open_topic(sockets, topic.pk)
    assert hello["data"]["user"] is None
    assert hello["data"]["topic"] == {"id": topic.pk, "last_seq": 1}
    await nothing_more(comm)


async def test_restricted_category_refuses_others(sockets: Sockets, author: User, lounge):
    """A topic in the facilitators' lounge: anonymous and learners are refused like a
    missing topic (4404); facilitators and moderators read it."""
    facilitator = await to_thread(make_member)("fola", roles=("facilitator",))
    topic = await to_thread(make_topic)(author=facilitator.user, category=lounge)
    learner = await to_thread(make_member)("lerato", roles=("learner",))
    moderator = await to_thread(new_moderator)("mod")

    assert await refused(sockets, topic.pk) == CloseCode.NOT_FOUND
    assert await refused(sockets, topic.pk, learner.user) == CloseCode.NOT_FOUND
    assert await refused(sockets, topic.pk + 1000) == CloseCode.NOT_FOUND
    for reader in (facilitator.user, moderator):
        _comm, hello = await open_topic(sockets, topic.pk, reader)
        assert hello["data"]["topic"]["id"] == topic.pk


async def test_deleted_and_merged_topics_are_refused(sockets: Sockets, topic: Topic, author):
    """Deleted and merged-away topics are gone for every reader."""
    other = await to_thread(make_topic)(author=author)
    await to_thread(Topic.objects.filter(pk=topic.pk).update)(is_deleted=True)
    await to_thread(Topic.objects.filter(pk=other.pk).update)(merged_into=topic)
    moderator = await to_thread(new_moderator)("mod")
    for reader in (None, author, moderator):
        assert await refused(sockets, topic.pk, reader) == CloseCode.NOT_FOUND
        assert await refused(sockets, other.pk, reader) == CloseCode.NOT_FOUND


# --- live events ---------------------------------------------------------------------------
@pytest.mark.usefixtures("layer")
async def test_new_post_arrives_live_with_its_seq(sockets: Sockets, topic: Topic, author):
    """A reply posted while the topic is open arrives as post.created with the payload."""
    comm, hello = await open_topic(sockets, topic.pk)
    assert hello["data"]["topic"]["last_seq"] == 0
    post = await to_thread(make_post)(topic=topic, body="Look at **lactate** too.")
    message = await recv(comm)
    assert message["type"] == "post.created"
    assert (message["seq"], message["topic"]) == (1, topic.pk)
    data = message["data"]
    assert (data["id"], data["number"]) == (post.pk, 2)
    assert data["html"].strip() == "<p>Look at <strong>lactate</strong> too.</p>"
    assert data["author"] == post.author.username
    await nothing_more(comm)


@pytest.mark.usefixtures("layer")
async def test_resume_after_n_sends_exactly_the_missing_events_once(sockets: Sockets, topic: Topic):
    """?after=2 with five events: 3, 4, 5 from the database, then 6 live, nothing twice."""
    for i in range(5):
        await to_thread(make_post)(topic=topic, body=f"Reply {i}")
    comm, hello = await open_topic(sockets, topic.pk, query="after=2")
    assert hello["data"]["topic"]["last_seq"] == 5
    backlog = await stream(comm, 3)
    assert seqs(backlog) == [3, 4, 5]
    assert [e["data"]["number"] for e in backlog] == [4, 5, 6]
    assert all(e["type"] == "post.created" for e in backlog)
    await to_thread(make_post)(topic=topic, body="Live one")
    live = await recv(comm)
    assert (live["type"], live["seq"]) == ("post.created", 6)
    await nothing_more(comm)


async def test_event_committed_while_the_backlog_is_read_is_sent_once(
    sockets: Sockets, topic: Topic, monkeypatch
):
    """The socket joins the group before reading: an event committed in between reaches
    it both live and in the backlog, and is sent once, in order."""
    for i in range(2):
        await to_thread(make_post)(topic=topic, body=f"Reply {i}")
    original = TopicConsumer._initial_state

    def racing(self: TopicConsumer, after: int | None) -> dict[str, Any]:
        make_post(topic=topic, body="Committed in the window")  # published to the group
        return original(self, after)

    monkeypatch.setattr(TopicConsumer, "_initial_state", racing)
    comm, hello = await open_topic(sockets, topic.pk, query="after=1")
    assert hello["data"]["topic"]["last_seq"] == 3
    assert seqs(await stream(comm, 2)) == [2, 3]
    await nothing_more(comm)


async def test_without_after_the_socket_starts_at_the_current_seq(sockets: Sockets, topic):
    """No ?after: hello's last_seq, then only later events (the page shows the rest)."""
    for i in range(3):
        await to_thread(make_post)(topic=topic, body=f"Reply {i}")
    comm, hello = await open_topic(sockets, topic.pk)
    assert hello["data"]["topic"]["last_seq"] == 3
    await nothing_more(comm)
    await to_thread(make_post)(topic=topic, body="Next")
    assert (await recv(comm))["seq"] == 4


@pytest.mark.usefixtures("layer")
async def test_an_event_whose_broadcast_was_lost_is_read_before_the_next(
    sockets: Sockets, topic: Topic
):
    """A live event two ahead of the last sent: the one between is read from the
    database and sent first."""
    comm, _ = await open_topic(sockets, topic.pk)
    lost = await to_thread(append_unbroadcast)(topic.pk)
    await to_thread(make_post)(topic=topic, body="After the lost one")
    first, second = await stream(comm, 2)
    assert (first["type"], first["seq"]) == ("post.reactions", lost)
    assert (second["type"], second["seq"]) == ("post.created", lost + 1)
    await nothing_more(comm)


async def test_a_lost_broadcast_is_caught_up_on_a_later_ping(
    sockets: Sockets, topic: Topic, monkeypatch
):
    """With no later event to reveal it, a lost broadcast is read from the database on
    the client's next keep-alive ping (at most once a minute; here, on every ping)."""
    from realtime.consumers import topic as topic_consumer

    comm, _ = await open_topic(sockets, topic.pk)
    lost = await to_thread(append_unbroadcast)(topic.pk)
    await nothing_more(comm)  # not yet: the last check was at connect
    monkeypatch.setattr(topic_consumer, "CATCH_UP_SECONDS", 0.0)
    await comm.send_json_to({"type": "ping", "id": "p"})
    assert (await recv(comm))["seq"] == lost
    assert (await recv(comm))["type"] == "pong"
    await nothing_more(comm)  # and only once


async def test_client_gap_request_gets_the_missing_events(sockets: Sockets, topic: Topic):
    """``resume`` after N re-sends the events after N in order, then a reply."""
    for i in range(4):
        await to_thread(make_post)(topic=topic, body=f"Reply {i}")
    comm, _ = await open_topic(sockets, topic.pk)
    await comm.send_json_to({"type": "resume", "id": "r1", "data": {"after": 1}})
    assert seqs(await stream(comm, 3)) == [2, 3, 4]
    reply = await recv(comm)
    assert reply == {
        "type": "reply",
        "ref": "r1",
        "data": {"after": 1, "last_seq": 4, "sent": 3, "reload": False},
    }
    # Committed but not yet sent live (its broadcast was lost): resume sends it, and
    # a later live event follows on without repeating it.
    lost = await to_thread(append_unbroadcast)(topic.pk)
    await comm.send_json_to({"type": "resume", "id": "r2", "data": {"after": 4}})
    assert seqs(await stream(comm, 1)) == [lost]
    assert (await recv(comm))["data"]["sent"] == 1
    await to_thread(make_post)(topic=topic, body="Live")
    assert (await recv(comm))["seq"] == lost + 1
    await nothing_more(comm)


def bulk_events(topic_id: int, count: int) -> int:
    """``count`` more stream events at once (a long-running busy topic)."""
    with transaction.atomic():
        locked = Topic.objects.select_for_update().get(pk=topic_id)
        start = locked.last_seq
        TopicEvent.objects.bulk_create(
            TopicEvent(
                topic_id=topic_id,
                seq=start + i,
                type="post.reactions",
                data={"id": 1, "number": 1, "counts": {"like": i}},
            )
            for i in range(1, count + 1)
        )
        Topic.objects.filter(pk=topic_id).update(last_seq=start + count)
    return int(start + count)


async def test_beyond_the_backlog_the_reader_is_told_to_reload(sockets: Sockets, topic: Topic):
    """More than MAX_BACKLOG events behind (on connect or in a resume): ``reload``."""
    last = await to_thread(bulk_events)(topic.pk, MAX_BACKLOG + 2)
    comm, _hello = await open_topic(sockets, topic.pk, query="after=1")
    assert await recv(comm) == {"type": "reload", "data": {"last_seq": last}}
    await nothing_more(comm)
    # Exactly MAX_BACKLOG behind still resumes.
    near, _ = await open_topic(sockets, topic.pk, query=f"after={last - MAX_BACKLOG}")
    assert seqs(await stream(near, MAX_BACKLOG)) == list(range(last - MAX_BACKLOG + 1, last + 1))
    await nothing_more(near)
    await comm.send_json_to({"type": "resume", "id": "r", "data": {"after": 0}})
    assert await recv(comm) == {"type": "reload", "data": {"last_seq": last}}
    assert (await recv(comm))["data"] == {
        "after": 0,
        "last_seq": last,
        "sent": 0,
        "reload": True,
    }


async def test_after_a_seq_the_topic_never_reached_reloads(sockets: Sockets, topic: Topic):
    """A client ahead of the server (a restored database, a bug) is told to reload."""
    await to_thread(make_post)(topic=topic, body="One")
    comm, _ = await open_topic(sockets, topic.pk, query="after=99")
    assert await recv(comm) == {"type": "reload", "data": {"last_seq": 1}}


# --- bad input -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "query", ["after=abc", "after=-3", "after=", "after=1.5", "after=%E2%91%A0"]
)
async def test_bad_after_param_gets_an_error_and_no_backlog(sockets: Sockets, topic, query):
    """A malformed ?after is answered with an ``invalid`` error naming it; the socket
    stays open at the current seq."""
    await to_thread(make_post)(topic=topic, body="One")
    comm, hello = await open_topic(sockets, topic.pk, query=query)
    assert hello["data"]["topic"]["last_seq"] == 1
    error = await recv(comm)
    assert error["type"] == "error"
    assert error["data"]["code"] == "invalid"
    assert list(error["data"]["fields"]) == ["after"]
    await nothing_more(comm)


async def test_bad_frames_get_clear_errors_and_change_nothing(sockets: Sockets, topic, settings):
    """Malformed JSON, unknown types, bad resume arguments and oversized frames are
    answered with errors; the socket stays usable."""
    comm, _ = await open_topic(sockets, topic.pk)
    await comm.send_to(text_data="{not json")
    assert (await recv(comm))["data"]["code"] == "bad_json"
    await comm.send_json_to({"type": "post.create", "id": 7, "data": {"body": "x"}})
    error = await recv(comm)
    assert (error["data"]["code"], error["ref"]) == ("unknown_type", 7)
    for bad in ("3", -1, True, None, 1.5):
        await comm.send_json_to({"type": "resume", "id": "r", "data": {"after": bad}})
        error = await recv(comm)
        assert (error["type"], error["data"]["code"], error["ref"]) == ("error", "invalid", "r")
        assert list(error["data"]["fields"]) == ["after"]
    await comm.send_json_to({"type": "resume", "data": []})
    assert (await recv(comm))["data"]["code"] == "bad_envelope"
    await comm.send_to(text_data="x" * (settings.REALTIME_MAX_FRAME_BYTES + 1))
    assert (await recv(comm))["data"]["code"] == "too_large"
    assert await to_thread(TopicEvent.objects.filter(topic=topic).count)() == 0
    await nothing_more(comm)


async def test_too_many_frames_are_rate_limited(sockets: Sockets, topic, settings):
    """Past the burst, frames are answered with rate_limited, not dropped silently."""
    settings.REALTIME_RATE_BURST = 3
    settings.REALTIME_RATE_PER_SECOND = 0.001
    comm, _ = await open_topic(sockets, topic.pk)
    codes = []
    for i in range(4):
        await comm.send_json_to({"type": "ping", "id": i})
        codes.append((await recv(comm))["type"])
    assert codes == ["pong", "pong", "pong", "error"]


# --- access changes while connected ----------------------------------------------------------
@pytest.mark.usefixtures("layer")
async def test_moved_into_a_restricted_category_closes_sockets_that_lost_access(
    sockets: Sockets, topic: Topic, lounge: Category
):
    """Anonymous and learner readers get topic.gone and 4403 (not the new category);
    a moderator and a facilitator see topic.moved and stay."""
    learner = await to_thread(make_member)("lerato", roles=("learner",))
    facilitator = await to_thread(make_member)("fola", roles=("facilitator",))
    moderator = await to_thread(new_moderator)("mod")
    anonymous, _ = await open_topic(sockets, topic.pk)
    reader, _ = await open_topic(sockets, topic.pk, learner.user)
    stayers = [
        (await open_topic(sockets, topic.pk, user))[0] for user in (facilitator.user, moderator)
    ]

    await to_thread(move)(topic.pk, lounge)

    for comm in (anonymous, reader):
        assert await recv(comm) == {"type": "topic.gone", "data": {"reason": "access_revoked"}}
        assert await recv_close(comm) == CloseCode.FORBIDDEN
    for comm in stayers:
        moved = await recv(comm)
        assert moved["type"] == "topic.moved"
        assert moved["data"]["category"] == "lounge"
        await nothing_more(comm)
    # Later events reach those who may still read.
    await to_thread(make_post)(topic=topic, author=moderator, body="Moved here.")
    for comm in stayers:
        assert (await recv(comm))["type"] == "post.created"


async def test_a_move_between_public_categories_keeps_readers(sockets: Sockets, topic: Topic):
    """A move they may still read is just an event for everyone."""
    comm, _ = await open_topic(sockets, topic.pk)
    elsewhere = await to_thread(make_category)(slug="downstream")
    await to_thread(move)(topic.pk, elsewhere)
    assert (await recv(comm))["data"]["category"] == "downstream"
    await nothing_more(comm)


async def test_deleted_topic_closes_every_reader(sockets: Sockets, topic: Topic):
    """A topic deleted while open: topic.gone (deleted) and 4404, for moderators too."""
    moderator = await to_thread(new_moderator)("mod")
    readers = [(await open_topic(sockets, topic.pk, user))[0] for user in (None, moderator)]
    await to_thread(delete)(topic.pk)
    for comm in readers:
        # Deleting a topic deletes its opening post first (as posting does).
        assert (await recv(comm))["type"] == "post.deleted"
        assert await recv(comm) == {"type": "topic.gone", "data": {"reason": "deleted"}}
        assert await recv_close(comm) == CloseCode.NOT_FOUND


async def test_merged_topic_tells_readers_where_it_went_then_closes(
    sockets: Sockets, topic: Topic, author: User, lounge: Category
):
    """topic.merged carries the target's URL to readers who may read the target (null to
    others), and the socket closes with 4404: the topic is gone."""
    target = await to_thread(make_topic)(author=author)
    facilitator = await to_thread(make_member)("fola", roles=("facilitator",))
    hidden_target = await to_thread(make_topic)(author=facilitator.user, category=lounge)
    second = await to_thread(make_topic)(author=author)
    comm, _ = await open_topic(sockets, topic.pk)
    other, _ = await open_topic(sockets, second.pk)

    await to_thread(merge)(topic.pk, target)
    merged = await recv(comm)
    assert (merged["type"], merged["data"]) == ("topic.merged", {"into": target.get_absolute_url()})
    assert await recv_close(comm) == CloseCode.NOT_FOUND

    await to_thread(merge)(second.pk, hidden_target)
    assert (await recv(other))["data"] == {"into": None}
    assert await recv_close(other) == CloseCode.NOT_FOUND


@pytest.mark.usefixtures("layer")
async def test_logout_closes_that_sessions_topic_sockets(sockets: Sockets, topic: Topic):
    """Logging out sends session.revoked and closes with 4409; an anonymous reader of the
    same topic, and the member's other session, stay."""
    member = await to_thread(make_member)("amina")
    laptop = await to_thread(sign_in)(member.user)
    phone = await to_thread(sign_in)(member.user)
    mine = sockets.make(topic_path(topic.pk), session=laptop)
    assert (await mine.connect(timeout=WAIT))[0]
    assert (await recv(mine))["type"] == "hello"
    on_phone = sockets.make(topic_path(topic.pk), session=phone)
    assert (await on_phone.connect(timeout=WAIT))[0]
    assert (await recv(on_phone))["type"] == "hello"
    anonymous, _ = await open_topic(sockets, topic.pk)

    response = await to_thread(laptop.post)("/accounts/logout/")
    assert response.status_code == 302
    assert await recv(mine) == {"type": "session.revoked", "data": {"reason": "logged_out"}}
    assert await recv_close(mine) == CloseCode.REVOKED
    await nothing_more(on_phone)
    await nothing_more(anonymous)


async def test_member_notifications_are_not_sent_on_the_topic_socket(
    sockets: Sockets, topic: Topic
):
    """The topic socket listens on the member's group only for revocation."""
    from realtime.events import publish_to_user

    member = await to_thread(make_member)("amina")
    comm, hello = await open_topic(sockets, topic.pk, member.user)
    assert hello["data"]["user"]["username"] == "amina"

    def notify() -> None:
        with transaction.atomic():
            publish_to_user(user_id=member.user.pk, event_type="notification", data={"t": 1})

    await to_thread(notify)()
    await nothing_more(comm)


@pytest.mark.parametrize("behind", [3, MAX_BACKLOG])
def test_the_backlog_is_read_in_a_constant_number_of_queries(
    topic: Topic, django_assert_num_queries, behind: int
):
    """The topic and its events: two queries, however many events are sent."""
    from django.contrib.auth.models import AnonymousUser

    last = bulk_events(topic.pk, behind)
    consumer = TopicConsumer()
    consumer.user = AnonymousUser()
    consumer.topic_id = topic.pk
    with django_assert_num_queries(2):
        state = consumer._initial_state(last - behind)
    assert seqs(state["events"]) == list(range(last - behind + 1, last + 1))


async def test_a_database_failure_asks_the_client_to_come_back(
    sockets: Sockets, topic: Topic, monkeypatch
):
    """The database failing while a socket opens, or while a gap is filled, closes it
    with 1013 (reconnect with ?after=), never with a crash."""
    from django.db import OperationalError

    def broken(*args: Any) -> Any:
        raise OperationalError("the database went away")

    comm, _ = await open_topic(sockets, topic.pk)
    monkeypatch.setattr(TopicConsumer, "_initial_state", broken)
    assert await refused(sockets, topic.pk) == CloseCode.TRY_AGAIN

    monkeypatch.setattr(TopicConsumer, "_gap_fill", broken)
    await to_thread(append_unbroadcast)(topic.pk)
    await to_thread(make_post)(topic=topic, body="After the lost one")
    assert await recv_close(comm) == CloseCode.TRY_AGAIN
