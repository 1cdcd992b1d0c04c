"""How the rest of the hub pushes events to sockets.

Services call these after their write; the send happens after the transaction commits
("persist, then broadcast"). The channel layer is only a delivery path: when it fails
the event is logged and dropped, and no data is lost, because clients re-read state
from the database on reconnect.
"""

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import BaseChannelLayer, get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


def user_group(user_id: int) -> str:
    """The group every socket of one member joins."""
    return f"user.{user_id}"


def _group_send(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    for attempt in (1, 2):
        try:
            async_to_sync(layer.group_send)(group, message)
            return
        except Exception:
            # A pooled connection that died with a Redis restart fails once and is
            # replaced: one retry gets most sends through.
            if attempt == 2:
                logger.exception("channel layer send to %s failed; clients will resync", group)


def publish_to_user(*, user_id: int, event_type: str, data: dict[str, Any]) -> None:
    """Push ``{"type": event_type, "data": data}`` to every socket of a member,
    once the current transaction commits."""
    message = {"type": "hub.event", "event": {"type": event_type, "data": data}}
    transaction.on_commit(lambda: _group_send(user_group(user_id), message))


def session_revoked(*, user_id: int, session_key: str) -> None:
    """Close the member's sockets that were opened with this (now ended) session."""
    _group_send(user_group(user_id), {"type": "session.revoked", "session_key": session_key})


def user_revoked(*, user_id: int) -> None:
    """Close every socket of a member (deactivated, banned)."""
    transaction.on_commit(lambda: _group_send(user_group(user_id), {"type": "user.revoked"}))


# --- workshop rooms ---------------------------------------------------------------------
# Messages on a room's group. Each daphne process subscribes ONE channel of its own to
# the groups of the rooms it has sockets in (realtime/rooms.py), so an event costs one
# layer message per process, not one per socket, and is encoded once, here.
#
# Publishing never blocks the database thread: in a process whose event loop runs a room
# hub, the on-commit callback hands the message to that loop (``RoomPublisher``) and
# returns; the loop sends the queued messages in order, several events of one room as
# one layer message. Elsewhere (management commands, tests without a hub, WSGI) the send
# happens in place, as before. A publish that fails is logged and given up: the event is
# committed, and every hub notices the missing seq (the next event's gap, or its
# periodic check of the room's last seq) and reads it from the database.


def room_group(workshop_id: int) -> str:
    return f"room.{workshop_id}"


class RoomPublisher:
    """Sends room messages from the event loop of this process, handed over from any
    thread without waiting. One per hub (per loop); ``bind_room_publisher`` installs it."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        layer: BaseChannelLayer,
        on_failure: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.loop = loop
        self.layer = layer
        self.on_failure = on_failure  # told of a message whose publish failed
        self.queue: deque[tuple[str, dict[str, Any]]] = deque()
        # "room.dirty" notes queued and not yet taken for sending: another one just like
        # it adds nothing (the hubs recompute after the queued one, so from a database
        # state that includes the later change too).
        self.dirty: set[tuple[Any, ...]] = set()
        self.task: asyncio.Task[None] | None = None
        self.thread_id = threading.get_ident()  # created on the loop's thread
        # Counters, for tests and benchmarks.
        self.sent = 0  # layer messages sent
        self.failed = 0
        self.merged = 0  # "room.dirty" notes that joined one already queued

    def usable(self) -> bool:
        return self.loop.is_running() and not self.loop.is_closed()

    def submit(self, group: str, message: dict[str, Any]) -> bool:
        """Queue a message (any thread); False if the loop is gone (send it another way)."""
        if threading.get_ident() == self.thread_id:
            self._enqueue(group, message)
            return True
        try:
            self.loop.call_soon_threadsafe(self._enqueue, group, message)
        except RuntimeError:  # the loop closed meanwhile
            return False
        return True

    @property
    def idle(self) -> bool:
        """Nothing queued or being sent (tests wait for this)."""
        return not self.queue and (self.task is None or self.task.done())

    def _enqueue(self, group: str, message: dict[str, Any]) -> None:
        if message.get("type") == "room.dirty":
            key = (group, message.get("what"), message.get("poll_id"))
            if key in self.dirty:
                self.merged += 1
                return
            self.dirty.add(key)
        self.queue.append((group, message))
        if self.task is None or self.task.done():
            self.task = self.loop.create_task(self._drain())

    async def _drain(self) -> None:
        while self.queue:
            items = list(self.queue)
            self.queue.clear()
            self.dirty.clear()
            for group, message in coalesce(items):
                await self._send(group, message)

    async def _send(self, group: str, message: dict[str, Any]) -> None:
        for attempt in (1, 2):
            try:
                await self.layer.group_send(group, message)
            except asyncio.CancelledError:
                raise
            except Exception:
                # A pooled connection that died with a Redis restart fails once and is
                # replaced: one retry gets most sends through.
                if attempt == 1:
                    continue
                self.failed += 1
                logger.warning("room publish to %s failed; the hubs will catch up", group)
                if self.on_failure is not None:
                    try:
                        self.on_failure(message)
                    except Exception:
                        logger.exception("room publish: the failure handler failed")
            else:
                self.sent += 1
            return


def coalesce(items: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    """Merge runs of "room.frame" messages to one group into one "room.frames" message
    (keeping each group's order; groups are independent of each other)."""
    out: list[tuple[str, dict[str, Any]]] = []
    last: dict[str, int] = {}  # group -> index in ``out`` of its latest message
    for group, message in items:
        if message.get("type") == "room.frame":
            at = last.get(group)
            previous = out[at][1] if at is not None else None
            if previous is not None and previous["type"] in ("room.frame", "room.frames"):
                if previous["type"] == "room.frame":
                    previous = {
                        "type": "room.frames",
                        "room": previous["room"],
                        "items": [[previous["seq"], previous["text"]]],
                    }
                    out[at] = (group, previous)  # type: ignore[index]
                previous["items"].append([message["seq"], message["text"]])
                continue
        last[group] = len(out)
        out.append((group, message))
    return out


_publisher: RoomPublisher | None = None


def bind_room_publisher(publisher: RoomPublisher | None) -> None:
    """Publish room messages through ``publisher`` (the hub of this process's loop)."""
    global _publisher
    _publisher = publisher


def room_publisher() -> RoomPublisher | None:
    return _publisher


def _room_send(group: str, message: dict[str, Any]) -> None:
    publisher = _publisher
    if (
        publisher is not None
        and publisher.usable()
        and publisher.layer is get_channel_layer()
        and publisher.submit(group, message)
    ):
        return
    _group_send(group, message)


def room_broadcast(*, workshop_id: int, event: dict[str, Any]) -> None:
    """After commit, send ``event`` (a protocol message: {"type", "data", ...}) to every
    socket in the room, on every process. It is encoded to JSON once, here."""
    from realtime.protocol import encode

    text = encode(event)
    # "room" tells the process-wide receiver which room it is for; "seq" (stream events
    # only) lets it drop duplicates and keep order without decoding the text.
    message = {"type": "room.frame", "room": workshop_id, "seq": event.get("seq"), "text": text}
    transaction.on_commit(lambda: _room_send(room_group(workshop_id), message))


def room_dirty(*, workshop_id: int, what: str, poll_id: int | None = None) -> None:
    """After commit, tell every process that a room snapshot changed (``what`` is
    "presence" or "poll"): they recompute and send it, throttled and only on change."""
    message = {"type": "room.dirty", "room": workshop_id, "what": what, "poll_id": poll_id}
    transaction.on_commit(lambda: _room_send(room_group(workshop_id), message))


def room_kick(*, workshop_id: int, user_id: int, reason: str) -> None:
    """After commit, close every socket of ``user_id`` in the room (removed, ended)."""
    message = {"type": "room.kick", "room": workshop_id, "user_id": user_id, "reason": reason}
    transaction.on_commit(lambda: _room_send(room_group(workshop_id), message))


# --- forum topics -----------------------------------------------------------------------
# Readers of a topic page join the topic's group (realtime/consumers/topic.py). Topic
# readers are few compared with a workshop room, so the stock group pattern serves.


def topic_group(topic_id: int) -> str:
    return f"forum.topic.{topic_id}"


def topic_broadcast(*, topic_id: int, event: dict[str, Any]) -> None:
    """After commit, send a topic stream event ({"type", "seq", "topic", "data"}) to
    every socket reading the topic, on every process."""
    message = {"type": "topic.event", "event": event}
    transaction.on_commit(lambda: _group_send(topic_group(topic_id), message))
