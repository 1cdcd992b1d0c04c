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
import logging
import math
import uuid
from collections import deque
from collections.abc import Awaitable, Coroutine, Generator, Iterable
from typing import Any, Protocol

from channels.db import database_sync_to_async
from channels.layers import BaseChannelLayer, get_channel_layer
from django.core.exceptions import ImproperlyConfigured

from realtime.events import room_group
from realtime.protocol import CloseCode, encode, event

logger = logging.getLogger(__name__)

WINDOW = 0.020  # seconds: events of a room arriving within this window share one frame
MAX_BATCH_BYTES = 256 * 1024  # a frame this large is sent at once, window or not
PRESENCE_INTERVAL = 1.0  # at most one presence recomputation per room per second
TALLY_INTERVAL = 0.25  # at most four tally recomputations per poll per second
MAX_BACKLOG = 500  # frames queued behind a socket whose send has not completed
MAX_HELD = 5000  # events held for a socket that has not received its initial state yet
PROBE_INTERVAL = 5.0  # seconds between liveness probes through a room's group
PROBE_TIMEOUT = 10.0  # a probe not back by then means the layer lost us: re-subscribe
REFRESH_INTERVAL = 600.0  # re-add group memberships (they expire) this often
RECENT_SEQS = 4096  # stream seqs remembered per room to drop duplicates
GAP_WAIT = 0.5  # a missing seq not arrived by then is fetched from the database
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


def batch_frame(texts: list[str]) -> str:
    """One event's text as it is, several joined into a ``batch`` frame (no re-encoding)."""
    if len(texts) == 1:
        return texts[0]
    return BATCH_HEAD + ",".join(texts) + BATCH_TAIL


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
        self.held: list[tuple[int | None, str]] = []
        self.backlog: deque[str] = deque()
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
    """A room with local sockets: its pending frame, throttles and recent seqs."""

    def __init__(self, room_id: int) -> None:
        self.id = room_id
        self.sockets: dict[RoomSocket, None] = {}  # insertion-ordered set
        self.subscribed = False
        self.pending: list[tuple[int | None, str]] = []
        self.pending_bytes = 0
        self.flush_handle: asyncio.TimerHandle | None = None
        # Every stream seq up to ``contiguous`` reached this process (-1: not known yet,
        # set from the first socket's initial state); a seq seen beyond it is a gap.
        self.contiguous = -1
        self.gap_handle: asyncio.TimerHandle | None = None
        self.filling = False
        self._seen: set[int] = set()
        self._seen_order: deque[int] = deque()
        self.presence_text: str | None = None
        self.presence_at = -math.inf
        self.presence_dirty = False
        self.presence_task: asyncio.Task[None] | None = None
        self.polls: dict[int, _PollState] = {}

    def first_time(self, seq: int) -> bool:
        """Record a stream seq; False if it was already delivered here."""
        if seq in self._seen:
            return False
        self._seen.add(seq)
        self._seen_order.append(seq)
        if len(self._seen_order) > RECENT_SEQS:
            self._seen.discard(self._seen_order.popleft())
        self.advance()
        return True

    def advance(self) -> None:
        if self.contiguous >= 0:
            while self.contiguous + 1 in self._seen:
                self.contiguous += 1

    @property
    def has_gap(self) -> bool:
        return self.contiguous >= 0 and any(seq > self.contiguous for seq in self._seen_order)

    def stop(self) -> None:
        for handle in (self.flush_handle, self.gap_handle):
            if handle is not None:
                handle.cancel()
        self.flush_handle = self.gap_handle = None
        self.pending = []
        tasks = [self.presence_task, *(p.task for p in self.polls.values())]
        for task in tasks:
            if task is not None:
                task.cancel()


# --- database reads (run in the database thread) ----------------------------------------
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
            texts = [text for s, text in items if s is None or s > seq]
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
        if room.has_gap and self.rooms.get(room.id) is room:
            self._spawn(self._fill(room))

    async def _fill(self, room: Room) -> None:
        """Deliver, from the database, the stream events after ``room.contiguous`` that
        never arrived here (a lost publish, a layer outage). Duplicates are dropped."""
        if room.contiguous < 0 or room.filling:
            return
        room.filling = True
        try:
            after = room.contiguous
            events = await database_sync_to_async(_events_since)(room.id, after)
        except Exception:
            logger.warning("room hub: catching up room %s failed", room.id, exc_info=True)
            return
        finally:
            room.filling = False
        if self.rooms.get(room.id) is not room:
            return
        if events is None:  # too far behind: the clients reload on their next gap
            logger.warning("room hub: room %s is too far behind to catch up", room.id)
            room.contiguous = max(room._seen_order, default=room.contiguous)
            return
        filled = 0
        for item in events:
            seq = item.get("seq")
            if isinstance(seq, int) and seq not in room._seen:
                filled += 1
            self._on_frame(room, encode(item), seq)
        if filled:
            logger.info("room hub: filled %d missed event(s) in room %s", filled, room.id)
        self.events_filled += filled

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
            self._on_frame(room, message["text"], message.get("seq"))
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

    def _on_frame(self, room: Room, text: str, seq: int | None) -> None:
        if seq is not None:
            if not room.first_time(seq):
                return  # already delivered (by a catch-up, or twice by the layer)
            if seq > room.contiguous >= 0 and room.gap_handle is None and not room.filling:
                # An earlier event has not arrived: wait a moment (publishes from several
                # processes may cross), then fetch whatever is still missing.
                room.gap_handle = self.loop.call_later(GAP_WAIT, self._gap_check, room)
        room.pending.append((seq, text))
        room.pending_bytes += len(text)
        if room.pending_bytes >= MAX_BATCH_BYTES:
            self._flush(room)
        elif room.flush_handle is None:
            room.flush_handle = self.loop.call_later(WINDOW, self._flush, room)

    def _flush(self, room: Room) -> None:
        if room.flush_handle is not None:
            room.flush_handle.cancel()
            room.flush_handle = None
        items, room.pending, room.pending_bytes = room.pending, [], 0
        if not items:
            return
        frame = batch_frame([text for _, text in items])
        lowest = min((seq for seq, _ in items if seq is not None), default=None)
        for sock in list(room.sockets):
            if not sock.ready:
                self._hold(room, sock, items)
            elif lowest is not None and lowest <= sock.floor:
                # A socket that just joined: its snapshot or resume already had some of
                # these events (rare, so the frame is rebuilt for it alone).
                texts = [t for s, t in items if s is None or s > sock.floor]
                if texts:
                    self._write(sock, batch_frame(texts))
            else:
                self._write(sock, frame)

    def _hold(self, room: Room, sock: RoomSocket, items: list[tuple[int | None, str]]) -> None:
        sock.held.extend(items)
        if len(sock.held) > MAX_HELD:
            self._drop(room, sock, "too many events held before the initial state")

    def _send_to(self, room: Room, socks: Iterable[RoomSocket], text: str) -> None:
        """Write one non-stream frame (a tally) to some sockets of the room now."""
        for sock in socks:
            if sock.ready:
                self._write(sock, text)
            else:
                self._hold(room, sock, [(None, text)])

    # --- writing to sockets ---------------------------------------------------------------
    def _write(self, sock: RoomSocket, text: str) -> None:
        """Send ``text`` to one socket without waiting for it: a socket whose send does
        not complete at once gets a writer task and a bounded backlog; it never holds up
        the others, and a socket that falls too far behind is closed (it resumes)."""
        if sock.closed:
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
                    data = await database_sync_to_async(_presence)(room.id)
                except Exception:
                    logger.warning("room hub: presence of room %s failed", room.id, exc_info=True)
                    continue
                text = encode(event("presence", data))
                if text != room.presence_text:
                    room.presence_text = text
                    self._on_frame(room, text, None)
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
                    result = await database_sync_to_async(_tally)(room.id, poll_id)
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
                audience = [s for s in room.sockets if visible or s.is_facilitator]
                self._send_to(room, audience, text)
        finally:
            state.task = None


# --- the process's hub ----------------------------------------------------------------------
_hub: RoomHub | None = None


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
        _hub = RoomHub(layer, loop)
    return _hub
