"""The per-process room hub: one layer channel per process, sockets that misbehave, and a
channel layer that fails (a private redis-server this test stops and restarts)."""

import asyncio
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import LazySettings
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from community.models import User
from realtime import rooms
from realtime.consumers.room import NO_LAYER_ALIAS
from realtime.events import RoomPublisher, coalesce, room_group, room_publisher
from realtime.rooms import batch_frame, close_room_database, get_hub, ws_text_frame
from tests.conftest import _free_port, _port_open
from tests.realtime.room_support import chat, make_room, new_member, open_room, session_for
from tests.realtime.sockets import MEMORY_LAYERS, REDIS_BACKEND, Sockets, ping, redis_layers
from workshops.models import ChatMessage, Workshop
from workshops.room import services

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True, scope="module")
def _room_database_closed() -> Iterator[None]:
    """The room threads' connections are closed before the test database is dropped."""
    yield
    close_room_database()


@pytest.fixture
def facilitator(db: None) -> User:
    return new_member("fatima")


@pytest.fixture
def room(facilitator: User, member, other_member) -> Workshop:
    return make_room(facilitator, participants=(member.user, other_member.user))


async def group_members(workshop_id: int) -> list[str]:
    """The channels subscribed to the room's group, read from the layer itself."""
    layer: Any = get_channel_layer()
    group = room_group(workshop_id)
    if layer.__class__.__module__.startswith("channels_redis"):
        connection = layer.connection(layer.consistent_hash(group))
        members = await connection.zrange(layer._group_key(group), 0, -1)
        return [m.decode() for m in members]
    return list(layer.groups.get(group, {}))


def post(workshop: Workshop, user: User, client_id: str, body: str) -> int:
    message, _ = services.chat_message_post(
        workshop=workshop, user=user, client_id=client_id, body=body
    )
    return message.pk


class StuckClient:
    """A socket whose sends never complete (a client that stopped reading, on a server
    with back-pressure) or fail outright; it records how the hub closes it."""

    def __init__(self, *, fail: bool = False) -> None:
        self.fail = fail
        self.sends = 0
        self.closed_with: int | None = None
        self.gate = asyncio.Event()

    async def send(self, text_data: str | None = None, bytes_data: Any = None, close: Any = False):
        self.sends += 1
        if self.fail:
            raise ConnectionResetError("the peer went away")
        await self.gate.wait()

    async def close(self, code: int | None = None, reason: str | None = None) -> None:
        self.closed_with = code


# --- one channel per process -----------------------------------------------------------------
async def test_room_sockets_share_one_layer_channel(
    layer: str, sockets: Sockets, room: Workshop, facilitator, member, other_member
):
    """Three sockets in a room put one channel in its group; the last to leave removes it."""
    assert get_channel_layer(NO_LAYER_ALIAS) is None  # so consumers get no channel each
    readers = [
        (await open_room(sockets, user, room.pk))[0]
        for user in (facilitator, member.user, other_member.user)
    ]
    members = await group_members(room.pk)
    assert members == [get_hub().channel]
    reply = await chat(readers[0], "one layer message, three sockets", "c-1")
    for reader in readers:
        assert (await reader.until("chat.message"))["seq"] == reply["seq"]
    for reader in readers:
        await reader.comm.disconnect()
    assert await group_members(room.pk) == []


async def test_room_events_arrive_beside_a_notifications_socket(
    layer: str, sockets: Sockets, room: Workshop, facilitator, member
):
    """With the member's notifications socket open in the same process (it blocks on the
    layer's receive first), room events still reach the room sockets."""
    notifications = await sockets.open(session=await session_for(member.user))
    reader, _ = await open_room(sockets, member.user, room.pk)
    for i in range(3):
        message_id = await database_sync_to_async(post)(room, facilitator, f"n{i}", f"n {i}")
        assert (await reader.until("chat.message"))["data"]["id"] == message_id
    assert (await ping(notifications))["type"] == "pong"


@pytest.mark.django_db  # no database needed: not the module's transactional one
def test_batch_frame_joins_texts_without_reencoding():
    """One event is sent as it is; several become one batch whose events keep their text."""
    texts = ['{"type":"a","seq":1,"data":{"x":"é"}}', '{"type":"b","seq":2,"data":{}}']
    assert batch_frame(texts[:1]) == texts[0]
    assert batch_frame(texts) == (
        '{"type":"batch","data":{"events":[' + texts[0] + "," + texts[1] + "]}}"
    )


# --- sockets that misbehave ---------------------------------------------------------------------
async def test_stuck_socket_does_not_hold_up_the_room(
    sockets: Sockets, room: Workshop, facilitator, member, monkeypatch
):
    """A socket whose sends hang delays nobody else and is closed once too far behind."""
    monkeypatch.setattr(rooms, "MAX_BACKLOG", 3)
    reader, _ = await open_room(sockets, member.user, room.pk)
    hub = get_hub()
    stuck = StuckClient()
    sock = await hub.join(room.pk, stuck, user_id=facilitator.pk, is_facilitator=True)
    assert await hub.ready(sock, 0) is None
    sent = []
    for i in range(8):
        sent.append(await database_sync_to_async(post)(room, facilitator, f"s{i}", f"m {i}"))
        assert (await reader.until("chat.message"))["data"]["id"] == sent[-1]
    assert stuck.sends == 1  # its first send never finished
    assert stuck.closed_with == rooms.SLOW_CLOSE_CODE
    assert sock not in hub.sockets(room.pk)
    assert hub.dropped_sockets == 1


async def test_broken_socket_is_dropped_and_the_room_goes_on(
    sockets: Sockets, room: Workshop, facilitator, member
):
    """A socket whose send fails is dropped; the others keep receiving."""
    reader, _ = await open_room(sockets, member.user, room.pk)
    hub = get_hub()
    broken = StuckClient(fail=True)
    sock = await hub.join(room.pk, broken, user_id=facilitator.pk, is_facilitator=True)
    await hub.ready(sock, 0)
    for i in range(3):
        message_id = await database_sync_to_async(post)(room, facilitator, f"b{i}", f"m {i}")
        assert (await reader.until("chat.message"))["data"]["id"] == message_id
    assert broken.sends == 1
    assert sock not in hub.sockets(room.pk)


# --- a channel layer that fails -------------------------------------------------------------------
REDIS_SERVER = shutil.which("redis-server")


class PrivateRedis:
    """A redis-server of this test's own, without persistence: a restart loses everything."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        assert REDIS_SERVER is not None
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--protected-mode", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.started.append(self.process)
        deadline = time.monotonic() + 10
        while not _port_open("127.0.0.1", self.port):
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)


@pytest.fixture
def private_redis(settings: LazySettings) -> Iterator[PrivateRedis]:
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed")
    server = PrivateRedis()
    try:
        server.start()
        host = {"address": server.url, "socket_timeout": None, "socket_connect_timeout": 1}
        settings.CHANNEL_LAYERS = redis_layers(config={"hosts": [host], "capacity": 1500})
        assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == REDIS_BACKEND
        yield server
    finally:
        settings.CHANNEL_LAYERS = MEMORY_LAYERS  # nothing left to flush on a stopped server
        server.stop_all()


async def wait_for(condition: Any, what: str, within: float = 20) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"{what} never happened"
        await asyncio.sleep(0.05)


async def test_hub_survives_a_redis_restart(
    private_redis: PrivateRedis, sockets: Sockets, room: Workshop, facilitator, member, monkeypatch
):
    """When Redis restarts (losing every group), the hub re-subscribes and catches up: the
    message posted while Redis was down and those after it arrive once, in order."""
    monkeypatch.setattr(rooms, "PROBE_INTERVAL", 0.2)
    monkeypatch.setattr(rooms, "PROBE_TIMEOUT", 1.0)
    reader, _ = await open_room(sockets, member.user, room.pk)
    hub = get_hub()
    before = await database_sync_to_async(post)(room, facilitator, "r-0", "before")
    assert (await reader.until("chat.message"))["data"]["id"] == before

    private_redis.stop()
    during = await database_sync_to_async(post)(room, facilitator, "r-1", "while down")
    private_redis.start()  # empty: the room's group is gone
    await wait_for(lambda: hub.recoveries >= 1, "re-subscribing after the restart")
    after = await database_sync_to_async(post)(room, facilitator, "r-2", "after")

    received = [(await reader.until("chat.message"))["data"]["id"] for _ in range(2)]
    assert received == [during, after]
    assert [e for e in await reader.quiet(0.5) if e["type"] == "chat.message"] == []
    assert hub.layer_errors >= 1
    assert await database_sync_to_async(ChatMessage.objects.filter(workshop=room).count)() == 3


async def test_hub_notices_groups_lost_without_an_error(
    private_redis: PrivateRedis, sockets: Sockets, room: Workshop, facilitator, member, monkeypatch
):
    """If the room's group vanishes while the connection stays up (FLUSHALL), the probe
    notices, the hub re-subscribes, and later messages still arrive."""
    monkeypatch.setattr(rooms, "PROBE_INTERVAL", 0.2)
    monkeypatch.setattr(rooms, "PROBE_TIMEOUT", 1.0)
    reader, _ = await open_room(sockets, member.user, room.pk)
    hub = get_hub()
    layer: Any = get_channel_layer()
    group = room_group(room.pk)
    await layer.connection(layer.consistent_hash(group)).flushall()
    lost = await database_sync_to_async(post)(room, facilitator, "f-1", "into the void")
    await wait_for(lambda: hub.recoveries >= 1, "re-subscribing after the groups vanished")
    after = await database_sync_to_async(post)(room, facilitator, "f-2", "heard again")
    received = [(await reader.until("chat.message"))["data"]["id"] for _ in range(2)]
    assert received == [lost, after]


async def test_event_whose_publish_missed_this_process_is_fetched(
    layer: str, sockets: Sockets, room: Workshop, facilitator, member
):
    """An event that never reached this process (its group membership lapsed) is fetched
    from the database once the next event shows the gap: the socket gets both, once."""
    reader, _ = await open_room(sockets, member.user, room.pk)
    hub = get_hub()
    channel_layer: Any = get_channel_layer()
    await channel_layer.group_discard(room_group(room.pk), hub.channel)
    missed = await database_sync_to_async(post)(room, facilitator, "g-1", "published to no one")
    await published()
    await channel_layer.group_add(room_group(room.pk), hub.channel)
    after = await database_sync_to_async(post)(room, facilitator, "g-2", "reveals the gap")
    received = [(await reader.until("chat.message"))["data"]["id"] for _ in range(2)]
    assert sorted(received) == [missed, after]
    assert [e for e in await reader.quiet(0.7) if e["type"] == "chat.message"] == []
    assert hub.events_filled == 1


async def published() -> None:
    """Wait until this process's publisher has sent what the services handed it."""
    await wait_for(lambda: room_publisher() is None or room_publisher().idle, "publishing")


async def test_the_last_event_whose_publish_missed_this_process_is_fetched(
    layer: str, sockets: Sockets, room: Workshop, facilitator, member, monkeypatch
):
    """An event that never reached this process and that no later event reveals (the
    last message of a burst) is still fetched: the hub checks the rooms' last seqs."""
    monkeypatch.setattr(rooms, "PROBE_INTERVAL", 0.2)
    reader, _ = await open_room(sockets, member.user, room.pk)
    hub = get_hub()
    channel_layer: Any = get_channel_layer()
    await channel_layer.group_discard(room_group(room.pk), hub.channel)
    missed = await database_sync_to_async(post)(room, facilitator, "t-1", "the last word")
    await published()
    await channel_layer.group_add(room_group(room.pk), hub.channel)
    assert (await reader.until("chat.message"))["data"]["id"] == missed
    assert [e for e in await reader.quiet(0.7) if e["type"] == "chat.message"] == []
    assert hub.events_filled == 1


async def test_events_arriving_out_of_order_reach_sockets_in_order(
    layer: str, sockets: Sockets, room: Workshop, member
):
    """Publishes from two processes can cross: seq 2 arriving before seq 1 is held back,
    and the socket gets 1, then 2, once each."""
    reader, snapshot = await open_room(sockets, member.user, room.pk)
    assert snapshot["data"]["seq"] == 0
    channel_layer: Any = get_channel_layer()

    def frame(seq: int) -> dict[str, Any]:
        text = json.dumps({"type": "chat.deleted", "seq": seq, "data": {"id": seq}})
        return {"type": "room.frame", "room": room.pk, "seq": seq, "text": text}

    for seq in (2, 1, 2):
        await channel_layer.group_send(room_group(room.pk), frame(seq))
    got = [(await reader.until("chat.deleted"))["seq"] for _ in range(2)]
    assert got == [1, 2]
    assert [e for e in await reader.quiet(0.7) if e["type"] == "chat.deleted"] == []


@pytest.mark.django_db
def test_publisher_merges_a_rooms_frames_and_keeps_each_rooms_order():
    """Queued frames of one room become one layer message, in order; a note between them
    and other rooms' messages keep their places relative to their own room."""

    def f(room: int, seq: int) -> tuple[str, dict[str, Any]]:
        return room_group(room), {"type": "room.frame", "room": room, "seq": seq, "text": str(seq)}

    dirty = (room_group(1), {"type": "room.dirty", "room": 1, "what": "presence"})
    out = coalesce([f(1, 1), f(2, 7), f(1, 2), dirty, f(1, 3), f(1, 4)])
    assert [(g, m["type"], m.get("items", m.get("seq"))) for g, m in out] == [
        ("room.1", "room.frames", [[1, "1"], [2, "2"]]),
        ("room.2", "room.frame", 7),
        ("room.1", "room.dirty", None),
        ("room.1", "room.frames", [[3, "3"], [4, "4"]]),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("size", [5, 125, 126, 300, 65535, 65536, 70000])
def test_frames_written_directly_are_valid_websocket_frames(size: int):
    """The frame the hub builds once per room frame parses as one text message with the
    payload intact, for each of the three length encodings."""
    text = "é" * (size // 2) + "x" * (size % 2)
    reader = StreamReader()
    reader.feed_data(ws_text_frame(text))
    parser = Frame.parse(reader.read_exact, mask=False)
    try:
        next(parser)
    except StopIteration as done:
        frame = done.value
    else:  # pragma: no cover - the whole frame was fed
        raise AssertionError("incomplete frame")
    assert frame.opcode == Opcode.TEXT
    assert frame.fin
    assert frame.data.decode() == text


async def test_publisher_sends_a_repeated_dirty_note_once(layer: str, room: Workshop):
    """Votes in quick succession queue one "poll changed" note, not one per vote: the
    hubs recompute after it anyway, from a state that has every vote."""
    channel_layer: Any = get_channel_layer()
    channel = await channel_layer.new_channel()
    await channel_layer.group_add(room_group(room.pk), channel)
    publisher = RoomPublisher(asyncio.get_running_loop(), channel_layer)
    note = {"type": "room.dirty", "room": room.pk, "what": "poll", "poll_id": 7}
    for _ in range(3):
        publisher.submit(room_group(room.pk), dict(note))
    await wait_for(lambda: publisher.idle, "publishing")
    assert (publisher.sent, publisher.merged) == (1, 2)
    assert await asyncio.wait_for(channel_layer.receive(channel), 5) == note
    await channel_layer.group_discard(room_group(room.pk), channel)


@pytest.mark.parametrize("interval", [0.0005, 0.002, None])
async def test_a_process_serving_rooms_shortens_the_thread_switch_interval(
    settings: LazySettings, interval: float | None
) -> None:
    """The hub sets the interpreter's switch interval (the loop gets the GIL back sooner
    after each socket write); None leaves it alone."""
    import sys

    before = sys.getswitchinterval()
    sys.setswitchinterval(0.005)
    settings.CHANNEL_LAYERS = MEMORY_LAYERS
    settings.ROOM_GIL_SWITCH_INTERVAL = interval
    try:
        get_hub()
        assert sys.getswitchinterval() == pytest.approx(interval or 0.005)
    finally:
        sys.setswitchinterval(before)
