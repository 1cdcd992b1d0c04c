"""How the rest of the hub pushes events to sockets.

Services call these after their write; the send happens after the transaction commits
("persist, then broadcast"). The channel layer is only a delivery path: when it fails
the event is logged and dropped, and no data is lost, because clients re-read state
from the database on reconnect.
"""

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
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


def room_group(workshop_id: int) -> str:
    return f"room.{workshop_id}"


def room_broadcast(*, workshop_id: int, event: dict[str, Any]) -> None:
    """After commit, send ``event`` (a protocol message: {"type", "data", ...}) to every
    socket in the room, on every process. It is encoded to JSON once, here."""
    from realtime.protocol import encode

    text = encode(event)
    # "room" tells the process-wide receiver which room it is for; "seq" (stream events
    # only) lets it drop duplicates without decoding the text.
    message = {"type": "room.frame", "room": workshop_id, "seq": event.get("seq"), "text": text}
    transaction.on_commit(lambda: _group_send(room_group(workshop_id), message))


def room_dirty(*, workshop_id: int, what: str, poll_id: int | None = None) -> None:
    """After commit, tell every process that a room snapshot changed (``what`` is
    "presence" or "poll"): they recompute and send it, throttled and only on change."""
    message = {"type": "room.dirty", "room": workshop_id, "what": what, "poll_id": poll_id}
    transaction.on_commit(lambda: _group_send(room_group(workshop_id), message))


def room_kick(*, workshop_id: int, user_id: int, reason: str) -> None:
    """After commit, close every socket of ``user_id`` in the room (removed, ended)."""
    message = {"type": "room.kick", "room": workshop_id, "user_id": user_id, "reason": reason}
    transaction.on_commit(lambda: _group_send(room_group(workshop_id), message))


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
