"""The per-process room hub: workshop-room fan-out without per-socket layer channels.

One ``RoomHub`` per process (per running event loop). It holds ONE channel-layer channel,
adds it to the group of every room that has a socket in this process, and runs ONE
receive loop that reads it. Room events arrive already encoded (``realtime.events``
encodes each event once, where it is published); the hub coalesces the events of a
room that arrive within ``WINDOW`` seconds into one frame, built by joining strings,
and writes that frame to every local socket of the room. Presence and poll tallies are
snapshots, not stream events: on "room.dirty" the hub recomputes them from the database,
throttled per room (presence) and per poll (tallies), and sends them only on change.

Failure handling: the receive loop survives channel-layer errors (Redis timeouts,
restarts): it logs, backs off, takes a fresh channel, re-subscribes every room, and
catches every room up from the database (the events it may have missed, by seq). A
maintenance task sends a probe through one room's group every few seconds and treats
a probe that does not come back as the same failure, so a room cannot go quiet
silently (e.g. after a Redis restart that lost the groups while redis-py reconnected
without raising); it also re-adds the group memberships before they expire.

See docs/workshops-fanout.md for the design and its measurements.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
import struct
import sys
import threading
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Generator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

from channels.db import DatabaseSyncToAsync, database_sync_to_async
from channels.layers import BaseChannelLayer, get_channel_layer
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections

from realtime.events import RoomPublisher, bind_room_publisher, room_group
from realtime.protocol import CloseCode, encode, event

logger = logging.getLogger(__name__)
T = TypeVar("T")

WINDOW = 0.020  # seconds: events of a room arriving within this window share one frame
MAX_WINDOW = 0.100  # ... widened up to this when writing a frame to the room takes long
WINDOW_FACTOR = 3.0  # the window is at least this many times the last flush's duration
SLICE = 64  # sockets written per event-loop turn during a flush
MAX_BATCH_BYTES = 256 * 1024  # a frame this large is sent at once, window or not
MAX_BUFFERED_BYTES = 4 * 1024 * 1024  # unsent bytes a socket may have before it is closed
PRESENCE_INTERVAL = 1.0  # at most one presence recomputation per room per second
TALLY_INTERVAL = 0.25  # at most four tally recomputations per poll per second
MAX_BACKLOG = 500  # frames queued behind a socket whose send has not completed
MAX_HELD = 5000  # events held for a socket that has not received its initial state yet
PROBE_INTERVAL = 5.0  # seconds between liveness probes through a room's group
PROBE_TIMEOUT = 10.0  # a probe not back by then means the layer lost us: re-subscribe
REFRESH_INTERVAL = 600.0  # re-add group memberships (they expire) this often
RECENT_SEQS = 4096  # stream seqs remembered per room to drop duplicates
GAP_WAIT = 0.5  # a missing seq not arrived by then is fetched from the database
MAX_PARKED = 2000  # events held back behind a missing seq before the room catches up
BACKOFF_FIRST = 0.1
BACKOFF_MAX = 5.0
SLOW_CLOSE_CODE = CloseCode.TRY_AGAIN  # the client reconnects and resumes with ?after

BATCH_HEAD = '{"type":"batch","data":{"events":['
BATCH_TAIL = "]}}"


class RoomClient(Protocol):
    """What the hub needs of a socket: the consumer's ``send`` and ``close``."""

    async def send(
        self, text_data: str | None = None, bytes_data: bytes | None = None, close: bool = False
    ) -> None: ...

    async def close(self, code: int | None = None, reason: str | None = None) -> None: ...


# An item of a room's next frame: (stream seq or None, encoded event, facilitators only).
Item = tuple[int | None, str, bool]
# Writes an already framed websocket message to a socket; returns the bytes still unsent.
RawWriter = Callable[[bytes], int]


def batch_frame(texts: list[str]) -> str:
    """One event's text as it is, several joined into a ``batch`` frame (no re-encoding)."""
    if len(texts) == 1:
        return texts[0]
    return BATCH_HEAD + ",".join(texts) + BATCH_TAIL


def ws_text_frame(text: str) -> bytes:
    """``text`` as one unfragmented websocket text frame from a server (RFC 6455 5.2:
    FIN and opcode 1, no mask, the payload length in 7, 7+16 or 7+64 bits). Server
    frames are not masked, so the same bytes go to every socket."""
    payload = text.encode()
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x81, n)
    elif n < 1 << 16:
        head = struct.pack("!BBH", 0x81, 126, n)
    else:
        head = struct.pack("!BBQ", 0x81, 127, n)
    return head + payload


def _daphne_protocol(send: Any) -> Any:
    """The daphne websocket protocol behind a consumer's ``base_send``, if there is one:
    daphne passes ``partial(server.handle_reply, protocol)``, which channels' session
    middleware wraps (``InstanceSessionWrapper.send``, holding it as ``real_send``)."""
    try:
        from daphne.ws_protocol import WebSocketProtocol
    except ImportError:  # pragma: no cover - daphne is a dependency
        return None
    fn = send
    for _ in range(10):
        if isinstance(fn, functools.partial):
            return next((a for a in fn.args if isinstance(a, WebSocketProtocol)), None)
        inner = getattr(getattr(fn, "__self__", None), "real_send", None)
        if inner is None:
            return None
        fn = inner
    return None


def direct_writer(send: Any) -> RawWriter | None:
    """A writer of pre-framed messages for a socket served by daphne over plain TCP, or
    None (another server, TLS in twisted, compression negotiated): then the hub uses the
    consumer's ``send``.

    daphne's own path costs 55-130 µs per message and socket on a busy 2-core machine
    (channels' send, daphne's reply handling, autobahn framing it again for every socket,
    and twisted registering and unregistering a writer with epoll for each write). This
    one writes the frame the hub built once for the room with one ``send`` system call
    when nothing is queued before it, and otherwise appends it to twisted's buffer, so
    the order of everything written to the socket is kept. It returns the bytes the
    socket still has unsent, for the hub's slow-socket limit."""
    protocol = _daphne_protocol(send)
    if protocol is None:
        return None
    from twisted.internet import tcp

    transport = protocol.transport
    if not isinstance(transport, tcp.Connection) or protocol._perMessageCompress is not None:
        return None
    sock = transport.socket
    open_state = protocol.STATE_OPEN

    def write(wire: bytes) -> int:
        if (
            protocol.state != open_state
            or not transport.connected
            or transport.disconnecting
            or transport._writeDisconnected
        ):
            return 0  # closing: the consumer's disconnect takes it out of the room
        queued = transport._tempDataLen + len(transport.dataBuffer) - transport.offset
        if queued or protocol.send_queue:
            transport.write(wire)
            return queued + len(wire)
        try:
            sent = sock.send(wire)
        except OSError:  # would block, or the peer is gone (twisted notices on its write)
            sent = 0
        if sent < len(wire):
            transport.write(wire[sent:])
        return len(wire) - sent

    return write


class _Resume:
    """Awaitable that finishes a coroutine which already ran up to its first suspension.

    The hub starts each socket's ``send`` by hand: in the common case (daphne, the test
    communicator) it completes without suspending and costs no task at all. When it does
    suspend (a server with back-pressure, a stuck socket), the half-run coroutine is
    handed to a task through this wrapper, which re-yields what the coroutine yielded and
    then drives it on exactly as ``await`` would have.
    """

    __slots__ = ("coro", "first")

    def __init__(self, coro: Coroutine[Any, Any, Any], first: Any) -> None:
        self.coro = coro
        self.first = first

    def __await__(self) -> Generator[Any, Any, Any]:
        value = self.first
        while True:
            try:
                sent = yield value
            except BaseException as exc:  # cancellation and errors go into the coroutine
                try:
                    value = self.coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    value = self.coro.send(sent)
                except StopIteration as stop:
                    return stop.value


class RoomSocket:
    """One local socket in a room, as the hub sees it."""

    __slots__ = (
        "backlog",
        "client",
        "closed",
        "floor",
        "held",
        "is_facilitator",
        "kicked",
        "raw",
        "ready",
        "room_id",
        "user_id",
        "writer",
    )

    def __init__(self, client: RoomClient, room_id: int, user_id: int, is_facilitator: bool):
        self.client = client
        self.room_id = room_id
        self.user_id = user_id
        self.is_facilitator = is_facilitator
        # Until the consumer has sent the initial state (snapshot or resume), events are
        # held here as (seq, text) and released, minus what that state already covered.
        self.ready = False
        # The seq its initial state covered: stream events up to it that were still in
        # flight (on the layer, or in the room's open window) are not sent again.
        self.floor = 0
        self.held: list[Item] = []
        self.backlog: deque[str] = deque()
        # Set by the consumer on daphne (``direct_writer``): frames skip its send path.
        self.raw: RawWriter | None = None
        self.writer: asyncio.Task[None] | None = None
        self.closed = False
        self.kicked: str | None = None  # the reason, when kicked before it was ready


class _PollState:
    __slots__ = ("at", "dirty", "task", "text")

    def __init__(self) -> None:
        self.text: str | None = None
        self.at = -math.inf
        self.dirty = False
        self.task: asyncio.Task[None] | None = None


class Room:
    """A room with local sockets: its pending frame, throttles and stream position."""

    def __init__(self, room_id: int) -> None:
        self.id = room_id
        self.sockets: dict[RoomSocket, None] = {}  # insertion-ordered set
        self.subscribed = False
        self.pending: list[Item] = []
        self.pending_bytes = 0
        self.flush_handle: asyncio.TimerHandle | None = None
        self.flusher: asyncio.Task[None] | None = None
        self.window = WINDOW  # widened while flushes to this room take long
        # Every stream seq up to ``contiguous`` reached this process and was queued, in
        # order (-1: not known yet, set from the first socket's initial state). An event
        # beyond ``contiguous + 1`` is parked until the ones before it arrive or are read
        # from the database, so the sockets get the stream in seq order.
        self.contiguous = -1
        self.parked: dict[int, str] = {}
        self.gap_handle: asyncio.TimerHandle | None = None
        self.filling = False
        self._seen: set[int] = set()  # recent seqs, for duplicates before ``contiguous``
        self._seen_order: deque[int] = deque()
        self.presence_text: str | None = None
        self.presence_at = -math.inf
        self.presence_dirty = False
        self.presence_task: asyncio.Task[None] | None = None
        self.polls: dict[int, _PollState] = {}

    def is_duplicate(self, seq: int) -> bool:
        return seq in self._seen or 0 <= seq <= self.contiguous or seq in self.parked

    def remember(self, seq: int) -> None:
        self._seen.add(seq)
        self._seen_order.append(seq)
        if len(self._seen_order) > RECENT_SEQS:
            self._seen.discard(self._seen_order.popleft())
        self.advance()

    def advance(self) -> None:
        if self.contiguous >= 0:
            while self.contiguous + 1 in self._seen:
                self.contiguous += 1

    def stop(self) -> None:
        for handle in (self.flush_handle, self.gap_handle):
            if handle is not None:
                handle.cancel()
        self.flush_handle = self.gap_handle = None
        self.pending = []
        self.parked = {}
        tasks = [self.flusher, self.presence_task, *(p.task for p in self.polls.values())]
        for task in tasks:
            if task is not None and task is not asyncio.current_task():
                task.cancel()


# --- database work ----------------------------------------------------------------------
_room_pool: ThreadPoolExecutor | None = None


def room_database(fn: Callable[..., T]) -> Callable[..., Awaitable[T]]:
    """``database_sync_to_async`` for the rooms' work (actions, snapshots, tallies).

    On PostgreSQL it runs in a few threads of its own (``ROOM_DATABASE_THREADS``, each
    with its connection): an action spends most of its time waiting for the database
    (round trips, the commit's flush), so actions of different sockets overlap instead
    of queueing behind each other in channels' one database thread; the row locks keep
    every room's stream in order. Elsewhere (SQLite: one writer at a time) it is the
    one database thread."""
    global _room_pool
    threads = int(getattr(settings, "ROOM_DATABASE_THREADS", 4))
    if threads <= 1 or "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
        return database_sync_to_async(fn)
    if _room_pool is None:
        _room_pool = ThreadPoolExecutor(threads, thread_name_prefix="room-db")
    return DatabaseSyncToAsync(fn, thread_sensitive=False, executor=_room_pool)


def close_room_database() -> None:
    """Close the room threads' database connections and stop the threads (tests do this
    before the test database is dropped; a server simply exits)."""
    global _room_pool
    pool, _room_pool = _room_pool, None
    if pool is None:
        return
    workers = pool._max_workers
    barrier = threading.Barrier(workers, timeout=10)

    def close() -> None:
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()  # one job per thread: each closes its own connection
        connections.close_all()

    for _ in range(workers):
        pool.submit(close)
    pool.shutdown(wait=True)


# --- database reads -----------------------------------------------------------------------
def _presence(room_id: int) -> dict[str, Any]:
    from workshops.room.selectors import presence

    return presence(workshop_id=room_id)


def _tally(room_id: int, poll_id: int) -> tuple[dict[str, Any], bool] | None:
    """The poll's tally and whether everyone may see it (facilitators always may)."""
    from workshops.models import Poll, PollStatus
    from workshops.room.selectors import poll_tally, poll_tally_visible

    poll = Poll.objects.filter(pk=poll_id, workshop_id=room_id).first()
    if poll is None or poll.status == PollStatus.DRAFT:
        return None
    return poll_tally(poll=poll), poll_tally_visible(poll=poll, is_facilitator=False)


def _last_seqs(room_ids: list[int]) -> dict[int, int]:
    from workshops.models import Workshop

    return dict(Workshop.objects.filter(pk__in=room_ids).values_list("pk", "last_seq"))


def _events_since(room_id: int, after_seq: int) -> list[dict[str, Any]] | None:
    from workshops.models import Workshop
    from workshops.room.selectors import room_events_since

    workshop = Workshop.objects.filter(pk=room_id).first()
    if workshop is None:
        return []
    return room_events_since(workshop=workshop, after_seq=after_seq)


class RoomHub:
    """Fan-out for the workshop rooms of this process (see the module docstring)."""

    def __init__(self, layer: BaseChannelLayer, loop: asyncio.AbstractEventLoop | None = None):
        self.layer = layer
        self.loop = loop or asyncio.get_running_loop()
        self.channel: str | None = None
        self.rooms: dict[int, Room] = {}
        self._lock = asyncio.Lock()
        self._receiver: asyncio.Task[None] | None = None
        self._maintainer: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self._probes: dict[str, asyncio.Future[None]] = {}
        self._broken = False
        # Counters, for tests, benchmarks and logs.
        self.layer_errors = 0
        self.recoveries = 0
        self.frames_sent = 0
        self.events_received = 0
        self.dropped_sockets = 0
        self.events_filled = 0

    # --- sockets joining and leaving --------------------------------------------------
    async def join(
        self, room_id: int, client: RoomClient, *, user_id: int, is_facilitator: bool
    ) -> RoomSocket:
        """Register a socket; the first local socket of a room subscribes the process to
        the room's group. Events that arrive before ``ready`` are held for it."""
        room = self.rooms.get(room_id)
        if room is None:
            room = self.rooms[room_id] = Room(room_id)
        sock = RoomSocket(client, room_id, user_id, is_facilitator)
        room.sockets[sock] = None
        try:
            await self._subscribe(room)
        except BaseException:
            await self.leave(sock)
            raise
        return sock

    async def ready(self, sock: RoomSocket, seq: int) -> str | None:
        """The socket has its initial state, up to stream ``seq``: send it what was held
        since it joined (minus what that state covered), then write it live frames.

        Returns the reason if the socket was kicked before it got here (the caller tells
        the client and closes it); None otherwise."""
        room = self.rooms.get(sock.room_id)
        if room is not None and room.contiguous < 0:
            room.contiguous = seq  # the baseline for noticing gaps from now on
            room.advance()
        sock.floor = seq
        while sock.held and not sock.closed:
            items, sock.held = sock.held, []
            texts = [
                text
                for s, text, restricted in items
                if (s is None or s > seq) and (sock.is_facilitator or not restricted)
            ]
            if texts:
                await sock.client.send(text_data=batch_frame(texts))
        sock.ready = True
        return sock.kicked

    async def leave(self, sock: RoomSocket) -> None:
        """Unregister a socket; the last local socket of a room unsubscribes the process."""
        sock.closed = True
        if sock.writer is not None and sock.writer is not asyncio.current_task():
            sock.writer.cancel()
        room = self.rooms.get(sock.room_id)
        if room is None:
            return
        room.sockets.pop(sock, None)
        if room.sockets:
            return
        async with self._lock:
            if room.sockets or self.rooms.get(room.id) is not room:
                return
            del self.rooms[room.id]
            room.stop()
            if room.subscribed and self.channel is not None:
                try:
                    await self.layer.group_discard(room_group(room.id), self.channel)
                except Exception:
                    logger.warning("room hub: could not leave group of room %s", room.id)
            if not self.rooms:
                await self._stop_tasks()

    def sockets(self, room_id: int) -> list[RoomSocket]:
        room = self.rooms.get(room_id)
        return list(room.sockets) if room is not None else []

    async def close(self) -> None:
        """Stop the hub (tests, shutdown): leave every group, stop the loops."""
        async with self._lock:
            for room in list(self.rooms.values()):
                room.stop()
                if room.subscribed and self.channel is not None:
                    try:
                        await self.layer.group_discard(room_group(room.id), self.channel)
                    except Exception:
                        logger.warning("room hub: could not leave group of room %s", room.id)
            self.rooms.clear()
            await self._stop_tasks()

    # --- the layer side ---------------------------------------------------------------------
    async def _subscribe(self, room: Room) -> None:
        async with self._lock:
            if self.rooms.get(room.id) is not room or not room.sockets or room.subscribed:
                return
            if self.channel is None:
                self.channel = await self._new_channel()
            await self.layer.group_add(room_group(room.id), self.channel)
            room.subscribed = True
            if self._receiver is None or self._receiver.done():
                self._receiver = self.loop.create_task(self._receive_loop())
                self._maintainer = self.loop.create_task(self._maintain_loop())

    async def _new_channel(self) -> str:
        """A process-local channel with the layer's default prefix. (channels-redis pops
        every process-local channel of one prefix with one blocking read, and the
        coroutine holding its receive lock only reads its own prefix's list: a channel
        with a prefix of its own would starve behind the notifications sockets.)"""
        return str(await self.layer.new_channel())

    async def _stop_tasks(self) -> None:
        tasks = [t for t in (self._receiver, self._maintainer, *self._background) if t]
        self._receiver = self._maintainer = None
        self._background.clear()
        current = asyncio.current_task()
        tasks = [t for t in tasks if t is not current]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _receive_loop(self) -> None:
        """Read this process's channel forever; survive every layer error."""
        delay = BACKOFF_FIRST
        while True:
            try:
                if self._broken:
                    await self._resubscribe()
                assert self.channel is not None
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                self.layer_errors += 1
                self._broken = True
                logger.warning(
                    "room hub: channel layer failed; retrying in %.1f s", delay, exc_info=True
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, BACKOFF_MAX)
                continue
            delay = BACKOFF_FIRST
            try:
                self._dispatch(message)
            except Exception:
                logger.exception("room hub: could not handle %s", message.get("type"))

    async def _resubscribe(self) -> None:
        """After a layer error: a fresh channel in every room's group, then catch up."""
        async with self._lock:
            old = self.channel
            self.channel = await self._new_channel()
            for room in list(self.rooms.values()):
                await self.layer.group_add(room_group(room.id), self.channel)
                room.subscribed = True
            if old is not None:
                for room_id in list(self.rooms):
                    try:
                        await self.layer.group_discard(room_group(room_id), old)
                    except Exception:
                        break  # it expires on its own
            self._broken = False
        self.recoveries += 1
        logger.info("room hub: re-subscribed %d room(s) after a layer error", len(self.rooms))
        self._spawn(self._catch_up_all())

    async def _maintain_loop(self) -> None:
        """Probe the delivery path and keep the group memberships fresh."""
        refreshed = self.loop.time()
        while True:
            await asyncio.sleep(PROBE_INTERVAL)
            if self._broken or not self.rooms or self.channel is None:
                continue
            if not await self._probe():
                self.layer_errors += 1
                logger.warning("room hub: a probe did not come back; re-subscribing")
                await self._restart_receiver()
                continue
            await self._check_tails()
            if self.loop.time() - refreshed >= REFRESH_INTERVAL:
                refreshed = self.loop.time()
                try:
                    async with self._lock:
                        for room_id in list(self.rooms):
                            await self.layer.group_add(room_group(room_id), self.channel)
                except Exception:
                    logger.warning("room hub: refreshing group memberships failed", exc_info=True)

    async def _probe(self) -> bool:
        """Send a probe through one room's group to this process; did it arrive?"""
        room_id = next(iter(self.rooms), None)
        if room_id is None:
            return True
        token = uuid.uuid4().hex
        waiter: asyncio.Future[None] = self.loop.create_future()
        self._probes[token] = waiter
        try:
            await self.layer.group_send(
                room_group(room_id), {"type": "room.probe", "room": room_id, "token": token}
            )
            await asyncio.wait_for(waiter, timeout=PROBE_TIMEOUT)
        except asyncio.CancelledError:
            raise
        except Exception:
            return False
        finally:
            self._probes.pop(token, None)
        return True

    async def _restart_receiver(self) -> None:
        """Stop the receive loop wherever it waits, and start it again re-subscribing."""
        receiver = self._receiver
        if receiver is not None:
            receiver.cancel()
            await asyncio.gather(receiver, return_exceptions=True)
        if self._receiver is receiver and self.rooms:
            self._broken = True
            self._receiver = self.loop.create_task(self._receive_loop())

    async def _catch_up_all(self) -> None:
        """After a layer failure: fetch what every room may have missed, and refresh
        its presence and tallies."""
        for room in list(self.rooms.values()):
            await self._fill(room)
            if self.rooms.get(room.id) is room:
                for poll_id in room.polls:
                    self._mark_poll(room, poll_id)
                self._mark_presence(room)

    def _gap_check(self, room: Room) -> None:
        room.gap_handle = None
        if room.parked and self.rooms.get(room.id) is room:
            self._spawn(self._fill(room))

    def _tail_check(self, room: Room, last_seq: int) -> None:
        if room.contiguous < last_seq and self.rooms.get(room.id) is room:
            self._spawn(self._fill(room))

    async def _check_tails(self) -> None:
        """Read every room's last seq: an event whose publish never reached this process
        and that no later event revealed (the last message of a burst) is fetched too."""
        rooms = {room.id: room.contiguous for room in self.rooms.values() if room.contiguous >= 0}
        if not rooms:
            return
        try:
            last = await room_database(_last_seqs)(list(rooms))
        except Exception:
            logger.warning("room hub: reading the rooms' last seqs failed", exc_info=True)
            return
        for room_id, last_seq in last.items():
            room = self.rooms.get(room_id)
            if room is not None and last_seq > room.contiguous:
                # Its publish may still be on the way: look again a moment later.
                self.loop.call_later(GAP_WAIT, self._tail_check, room, last_seq)

    def publish_failed(self, message: dict[str, Any]) -> None:
        """A publish from this process failed: this process's sockets get the event from
        the database (other processes notice the missing seq by themselves)."""
        room = self.rooms.get(message.get("room"))  # type: ignore[arg-type]
        if room is None:
            return
        if message.get("type") in ("room.frame", "room.frames"):
            self.loop.call_later(GAP_WAIT, self._tail_check, room, room.contiguous + 1)
        else:
            self._dispatch(message)  # a note (dirty, kick) is acted on here at least

    async def _fill(self, room: Room) -> None:
        """Deliver, from the database, the stream events after ``room.contiguous`` that
        never arrived here (a lost publish, a layer outage). Duplicates are dropped."""
        if room.contiguous < 0 or room.filling:
            return
        room.filling = True
        try:
            events = await room_database(_events_since)(room.id, room.contiguous)
        except Exception:
            logger.warning("room hub: catching up room %s failed", room.id, exc_info=True)
            events = []
        finally:
            room.filling = False
        if self.rooms.get(room.id) is not room:
            return
        if events is None:  # too far behind: the clients reload on their next gap
            logger.warning("room hub: room %s is too far behind to catch up", room.id)
            self._release_parked(room)
            return
        filled = 0
        for item in events:
            seq = item.get("seq")
            if isinstance(seq, int) and not room.is_duplicate(seq):
                filled += 1
            self._on_event(room, seq, encode(item))
        if filled:
            logger.info("room hub: filled %d missed event(s) in room %s", filled, room.id)
        self.events_filled += filled
        if room.parked and room.gap_handle is None:
            room.gap_handle = self.loop.call_later(GAP_WAIT, self._gap_check, room)

    def _release_parked(self, room: Room) -> None:
        """Give up waiting for a missing seq: send what is parked, in order."""
        parked, room.parked = room.parked, {}
        for seq in sorted(parked):
            room.contiguous = seq - 1
            room.remember(seq)
            self._queue(room, seq, parked[seq], False)
        if room.gap_handle is not None:
            room.gap_handle.cancel()
            room.gap_handle = None

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # --- messages from the layer ----------------------------------------------------------
    def _dispatch(self, message: dict[str, Any]) -> None:
        self.events_received += 1
        room = self.rooms.get(message.get("room"))  # type: ignore[arg-type]
        if room is None:
            return  # a room this process left while the message was on its way
        type_ = message.get("type")
        if type_ == "room.frame":
            self._on_event(room, message.get("seq"), message["text"])
        elif type_ == "room.frames":
            for seq, text in message["items"]:
                self._on_event(room, seq, text)
        elif type_ == "room.dirty":
            if message.get("what") == "presence":
                self._mark_presence(room)
            elif message.get("what") == "poll" and isinstance(message.get("poll_id"), int):
                self._mark_poll(room, message["poll_id"])
        elif type_ == "room.kick":
            self._spawn(self._kick(room, message.get("user_id"), message.get("reason") or ""))
        elif type_ == "room.probe":
            waiter = self._probes.get(message.get("token"))  # type: ignore[arg-type]
            if waiter is not None and not waiter.done():
                waiter.set_result(None)  # ours; other processes' probes are ignored
        else:
            logger.warning("room hub: unknown message type %r", type_)

    def _on_event(self, room: Room, seq: int | None, text: str) -> None:
        """An event for the room's sockets: stream events (with a seq) in seq order,
        once; snapshots (presence) as they come."""
        if seq is None:
            self._queue(room, None, text, False)
            return
        if room.is_duplicate(seq):
            return  # already here (by a catch-up, or twice by the layer)
        if room.contiguous >= 0 and seq > room.contiguous + 1:
            # An earlier event has not arrived: hold this one back for a moment
            # (publishes from several processes may cross), then read what is missing.
            room.parked[seq] = text
            if len(room.parked) > MAX_PARKED:
                self._spawn(self._fill(room))
            elif room.gap_handle is None and not room.filling:
                room.gap_handle = self.loop.call_later(GAP_WAIT, self._gap_check, room)
            return
        room.remember(seq)
        self._queue(room, seq, text, False)
        while room.parked and room.contiguous + 1 in room.parked:
            seq = room.contiguous + 1
            room.remember(seq)
            self._queue(room, seq, room.parked.pop(seq), False)
        if not room.parked and room.gap_handle is not None:
            room.gap_handle.cancel()
            room.gap_handle = None

    def _queue(self, room: Room, seq: int | None, text: str, restricted: bool) -> None:
        """Add an event to the room's next frame (``restricted``: facilitators only)."""
        room.pending.append((seq, text, restricted))
        room.pending_bytes += len(text)
        if room.flusher is not None:
            return  # the running flush sends it next
        if room.pending_bytes >= MAX_BATCH_BYTES:
            self._start_flush(room)
        elif room.flush_handle is None:
            room.flush_handle = self.loop.call_later(room.window, self._start_flush, room)

    def _start_flush(self, room: Room) -> None:
        if room.flush_handle is not None:
            room.flush_handle.cancel()
            room.flush_handle = None
        if room.flusher is None and room.pending and self.rooms.get(room.id) is room:
            room.flusher = self.loop.create_task(self._flusher(room))

    async def _flusher(self, room: Room) -> None:
        """Send the room's pending events, one frame per socket, until none are left.
        A flush that took long widens the room's window: the events that arrive during
        it and the window after it share the next frame, so a big room's loop spends at
        most about 1 / WINDOW_FACTOR of its time writing that room's frames."""
        try:
            while room.pending and self.rooms.get(room.id) is room:
                items, room.pending, room.pending_bytes = room.pending, [], 0
                started = self.loop.time()
                await self._flush(room, items)
                took = self.loop.time() - started
                room.window = min(MAX_WINDOW, max(WINDOW, took * WINDOW_FACTOR))
                rest = room.window - took
                if room.pending and rest > 0 and room.pending_bytes < MAX_BATCH_BYTES:
                    await asyncio.sleep(rest)
        finally:
            room.flusher = None

    async def _flush(self, room: Room, items: list[Item]) -> None:
        """Write one frame of ``items`` to every socket of the room, ``SLICE`` sockets per
        loop turn (the loop reads actions and answers them between slices)."""
        public = [text for _, text, restricted in items if not restricted]
        frame_all = batch_frame([text for _, text, _ in items])
        frame_public = (
            frame_all if len(public) == len(items) else (batch_frame(public) if public else None)
        )
        wires: dict[str, bytes] = {}
        lowest = min((seq for seq, _, _ in items if seq is not None), default=None)
        for i, sock in enumerate(list(room.sockets)):
            if i and not i % SLICE:
                await asyncio.sleep(0)
            if sock.closed:
                continue
            if not sock.ready:
                self._hold(room, sock, items)
            elif lowest is not None and lowest <= sock.floor:
                # A socket that just joined: its snapshot or resume already had some of
                # these events (rare, so the frame is rebuilt for it alone).
                texts = [
                    t
                    for s, t, restricted in items
                    if (s is None or s > sock.floor) and (sock.is_facilitator or not restricted)
                ]
                if texts:
                    self._write(sock, batch_frame(texts))
            else:
                frame = frame_all if sock.is_facilitator else frame_public
                if frame is None:
                    continue
                if sock.raw is not None:
                    wire = wires.get(frame)
                    if wire is None:
                        wire = wires[frame] = ws_text_frame(frame)
                    self._write(sock, frame, wire)
                else:
                    self._write(sock, frame)

    def _hold(self, room: Room, sock: RoomSocket, items: list[Item]) -> None:
        sock.held.extend(items)
        if len(sock.held) > MAX_HELD:
            self._drop(room, sock, "too many events held before the initial state")

    # --- writing to sockets ---------------------------------------------------------------
    def _write(self, sock: RoomSocket, text: str, wire: bytes | None = None) -> None:
        """Send ``text`` to one socket without waiting for it: a socket whose send does
        not complete at once gets a writer task and a bounded backlog; it never holds up
        the others, and a socket that falls too far behind is closed (it resumes)."""
        if sock.closed:
            return
        if sock.raw is not None and sock.writer is None:
            try:
                unsent = sock.raw(wire if wire is not None else ws_text_frame(text))
            except Exception as exc:
                logger.info("room hub: write to a socket failed (%r); dropping it", exc)
                self._drop(self.rooms.get(sock.room_id), sock, None)
                return
            self.frames_sent += 1
            if unsent > MAX_BUFFERED_BYTES:
                self._drop(self.rooms.get(sock.room_id), sock, "too slow")
            return
        if sock.writer is not None:
            if len(sock.backlog) >= MAX_BACKLOG:
                self._drop(self.rooms.get(sock.room_id), sock, "too slow")
            else:
                sock.backlog.append(text)
            return
        coro = sock.client.send(text_data=text)
        try:
            first = coro.send(None)
        except StopIteration:
            self.frames_sent += 1
            return
        except Exception as exc:
            # A socket that closed between the fan-out and the write: expected, no trace.
            logger.info("room hub: send to a socket failed (%r); dropping it", exc)
            self._drop(self.rooms.get(sock.room_id), sock, None)
            return
        sock.writer = self.loop.create_task(self._finish_writes(sock, coro, first))

    async def _finish_writes(
        self, sock: RoomSocket, coro: Coroutine[Any, Any, Any], first: Any
    ) -> None:
        try:
            await _Resume(coro, first)
            self.frames_sent += 1
            while sock.backlog and not sock.closed:
                await sock.client.send(text_data=sock.backlog.popleft())
                self.frames_sent += 1
        except asyncio.CancelledError:
            coro.close()
            raise
        except Exception as exc:
            # A socket that closed between the fan-out and the write: expected, no trace.
            logger.info("room hub: send to a socket failed (%r); dropping it", exc)
            sock.writer = None
            self._drop(self.rooms.get(sock.room_id), sock, None)
        finally:
            sock.writer = None

    def _drop(self, room: Room | None, sock: RoomSocket, reason: str | None) -> None:
        """Stop writing to a socket; close it if it is slow rather than broken."""
        if sock.closed:
            return
        sock.closed = True
        self.dropped_sockets += 1
        sock.backlog.clear()
        sock.held = []
        if room is not None:
            room.sockets.pop(sock, None)
        writer, sock.writer = sock.writer, None
        if writer is not None and writer is not asyncio.current_task():
            writer.cancel()
        if reason is not None:
            logger.warning("room hub: closing a socket in room %s: %s", sock.room_id, reason)
            self._spawn(self._close_socket(sock, SLOW_CLOSE_CODE))

    async def _close_socket(self, sock: RoomSocket, code: int) -> None:
        try:
            await asyncio.wait_for(sock.client.close(code=code), timeout=5)
        except Exception:
            logger.info("room hub: closing a socket failed", exc_info=True)

    # --- kicks ------------------------------------------------------------------------------
    async def _kick(self, room: Room, user_id: Any, reason: str) -> None:
        text = encode(event("room.kicked", {"reason": reason}))
        targets = [sock for sock in room.sockets if sock.user_id == user_id]
        for sock in targets:
            room.sockets.pop(sock, None)
            sock.closed = True
            sock.kicked = reason
        for sock in targets:
            if not sock.ready:
                continue  # not accepted yet: its consumer learns it from ``ready``
            try:
                await asyncio.wait_for(sock.client.send(text_data=text), timeout=5)
                await asyncio.wait_for(sock.client.close(code=CloseCode.FORBIDDEN), timeout=5)
            except Exception:
                logger.info("room hub: kicking a socket failed", exc_info=True)

    # --- presence and tallies: throttled snapshots ------------------------------------------
    def _mark_presence(self, room: Room) -> None:
        room.presence_dirty = True
        if room.presence_task is None:
            room.presence_task = self.loop.create_task(self._presence_worker(room))

    async def _presence_worker(self, room: Room) -> None:
        try:
            while room.presence_dirty and self.rooms.get(room.id) is room:
                wait = room.presence_at + PRESENCE_INTERVAL - self.loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                room.presence_dirty = False
                room.presence_at = self.loop.time()
                try:
                    data = await room_database(_presence)(room.id)
                except Exception:
                    logger.warning("room hub: presence of room %s failed", room.id, exc_info=True)
                    continue
                text = encode(event("presence", data))
                if text != room.presence_text:
                    room.presence_text = text
                    self._queue(room, None, text, False)
        finally:
            room.presence_task = None

    def _mark_poll(self, room: Room, poll_id: int) -> None:
        state = room.polls.get(poll_id)
        if state is None:
            state = room.polls[poll_id] = _PollState()
        state.dirty = True
        if state.task is None:
            state.task = self.loop.create_task(self._tally_worker(room, poll_id, state))

    async def _tally_worker(self, room: Room, poll_id: int, state: _PollState) -> None:
        try:
            while state.dirty and self.rooms.get(room.id) is room:
                wait = state.at + TALLY_INTERVAL - self.loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                state.dirty = False
                state.at = self.loop.time()
                try:
                    result = await room_database(_tally)(room.id, poll_id)
                except Exception:
                    logger.warning("room hub: tally of poll %s failed", poll_id, exc_info=True)
                    continue
                if result is None:
                    continue
                tally, visible = result
                text = encode(event("poll.tally", tally))
                if text == state.text:
                    continue
                state.text = text
                self._queue(room, None, text, not visible)
        finally:
            state.task = None


# --- the process's hub ----------------------------------------------------------------------
_hub: RoomHub | None = None

DEFAULT_SWITCH_INTERVAL = 0.0005  # seconds; CPython's default is 0.005


def _tune_switch_interval() -> None:
    """Shorten the interpreter's thread switch interval in a process serving rooms
    (``ROOM_GIL_SWITCH_INTERVAL`` seconds, None to leave it).

    The event loop writes each frame to every socket of a room, and every write is a
    system call that lets go of the GIL; a database thread running ORM code takes it,
    and the loop gets it back only when that thread blocks or is asked to let go, after
    the switch interval. With CPython's 5 ms a flush to 1,000 sockets could wait 5 ms
    at many of its writes while the room's actions were being stored; at 0.5 ms the
    loop waits a tenth as long, for a little more switching in the database threads."""
    interval = getattr(settings, "ROOM_GIL_SWITCH_INTERVAL", DEFAULT_SWITCH_INTERVAL)
    if interval is not None and sys.getswitchinterval() != interval:
        sys.setswitchinterval(float(interval))


def get_hub() -> RoomHub:
    """The hub of this process, created on the running loop for the default layer.

    A new hub replaces the old one when the loop or the configured layer changed (tests
    run each on a loop and layer of their own; a server has one of each)."""
    global _hub
    loop = asyncio.get_running_loop()
    layer = get_channel_layer()
    if layer is None:
        raise ImproperlyConfigured("Workshop rooms need CHANNEL_LAYERS['default'].")
    if _hub is None or _hub.loop is not loop or _hub.layer is not layer:
        _tune_switch_interval()
        _hub = RoomHub(layer, loop)
        bind_room_publisher(RoomPublisher(loop, layer, on_failure=_hub.publish_failed))
    return _hub
