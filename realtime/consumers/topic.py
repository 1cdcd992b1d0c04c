"""``/ws/forums/topics/<id>/``: the live stream of one forum topic (see the "Forum
topics" section of docs/realtime-protocol.md).

Anyone who may read the topic may connect, signed in or not: reading a public category
needs no account. A topic that is missing, deleted, merged away or in a category the
reader may not see is refused alike (accepted, then closed with 4404), so ids leak
nothing.

Sequence rules (../shared/DESIGN.md §3). The socket joins the topic's group BEFORE it
reads the topic and its backlog, so every event committed from then on reaches it;
channels dispatches one message at a time, so the group's events wait in the socket's
channel while ``connect`` runs, and are released after it. ``last_seq`` is the highest
seq this socket has sent: a live event at or below it was covered by the backlog and
is dropped; one above ``last_seq + 1`` means the events between were published late
(two writers' after-commit sends can cross) or lost by the channel layer, and are read
from the database first. Seqs are given under the topic row lock that is held until
commit, so when event N has committed every event before it has too.
"""

from __future__ import annotations

import logging
import time
import urllib.parse
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.utils.translation import gettext as _

from realtime.consumers.base import HubConsumer, TokenBucket
from realtime.events import topic_group, user_group
from realtime.protocol import CloseCode, ErrorCode, ProtocolError

logger = logging.getLogger(__name__)

# A reader further behind than this is told to reload the page instead.
MAX_BACKLOG = 500
# Events after which the reader's access is checked again (a move into a restricted
# category, a merge, a deletion).
RECHECK_TYPES = frozenset({"topic.moved", "topic.merged", "topic.updated"})
# On a client's ping, at most this often: read what the channel layer may have lost
# (an event whose broadcast failed and that no later event revealed) ...
CATCH_UP_SECONDS = 60.0
# ... and join the groups again (channels-redis forgets group members after a day).
REJOIN_SECONDS = 3600.0


class Refused(Exception):
    """The reader may not (or no longer) read the topic."""


def _parse_after(query_string: bytes) -> tuple[int | None, str | None]:
    """``?after=<seq>``: (seq, None), (None, None) when absent, (None, error) when bad."""
    values = urllib.parse.parse_qs(query_string.decode("latin-1"), keep_blank_values=True).get(
        "after"
    )
    if not values:
        return None, None
    raw = values[-1].strip()
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        return None, _("after must be a whole number of 0 or more (the last seq you saw).")
    return int(raw), None


def _wire(topic_id: int, seq: int, type_: str, data: dict[str, Any]) -> dict[str, Any]:
    """A stream event as the client receives it (the same shape live and from the
    database)."""
    return {"type": type_, "seq": seq, "topic": topic_id, "data": data}


class TopicConsumer(HubConsumer):
    require_member = False

    topic_id: int = 0
    last_seq: int = 0
    groups_joined: tuple[str, ...] = ()
    checked_at: float = 0.0
    joined_at: float = 0.0
    closing: bool = False

    # --- lifecycle -----------------------------------------------------------------------
    async def connect(self) -> None:
        self.user = self.scope.get("user")
        self.bucket = TokenBucket(settings.REALTIME_RATE_PER_SECOND, settings.REALTIME_RATE_BURST)
        self.topic_id = int(self.scope["url_route"]["kwargs"]["topic_id"])
        after, after_error = _parse_after(self.scope.get("query_string", b""))
        # Join first: from here on every committed event reaches this socket.
        groups = [topic_group(self.topic_id)]
        if self.user is not None and self.user.is_authenticated:
            groups.append(user_group(self.user.pk))  # logout and revocation
        try:
            for group in groups:
                await self.channel_layer.group_add(group, self.channel_name)
                self.groups_joined = (*self.groups_joined, group)
        except Exception:
            logger.exception("joining topic %s failed (channel layer down?)", self.topic_id)
            await self._refuse(CloseCode.TRY_AGAIN)
            return
        self.joined_at = self.checked_at = time.monotonic()
        try:
            state = await database_sync_to_async(self._initial_state)(after)
        except Refused:
            await self._refuse(CloseCode.NOT_FOUND)
            return
        except Exception:
            logger.exception("reading topic %s for a new socket failed", self.topic_id)
            await self._refuse(CloseCode.TRY_AGAIN)
            return
        await self.accept()
        self.last_seq = state["last_seq"]
        await self.send_event("hello", await self.hello_data())
        if after_error is not None:
            await self.send_error(ErrorCode.INVALID, after_error, fields={"after": [after_error]})
        if state["reload"]:
            await self.send_event("reload", {"last_seq": state["last_seq"]})
        for item in state["events"]:
            await self.send_json(item)

    async def _refuse(self, code: int) -> None:
        """Accept, then close with ``code``: a close before accepting reaches browsers as
        1006, and they could not tell "stop" from a network fault."""
        await self._leave_groups()
        await self.accept()
        await self.close(code=code)

    async def _leave_groups(self) -> None:
        groups, self.groups_joined = self.groups_joined, ()
        for group in groups:
            try:
                await self.channel_layer.group_discard(group, self.channel_name)
            except Exception:
                logger.warning("leaving %s failed; the group entry will expire", group)

    async def close(self, code: int | bool | None = None, reason: str | None = None) -> None:
        self.closing = True  # events already queued for this socket are not sent
        await super().close(code=code, reason=reason)

    async def disconnect(self, code: int) -> None:
        await self._leave_groups()

    async def hello_data(self) -> dict[str, Any]:
        data = await super().hello_data()
        data["topic"] = {"id": self.topic_id, "last_seq": self.last_seq}
        return data

    # --- reading (in the database thread) ----------------------------------------------------
    def _readable_topic(self) -> Any:
        from community.forums import access
        from community.forums.models import Topic

        topic = Topic.objects.select_related("category").filter(pk=self.topic_id).first()
        if topic is None or not access.can_see_topic(self.user, topic):
            raise Refused
        return topic

    def _events_after(self, after: int, upto: int) -> list[dict[str, Any]]:
        from community.forums.models import TopicEvent

        rows = TopicEvent.objects.filter(
            topic_id=self.topic_id, seq__gt=after, seq__lte=upto
        ).order_by("seq")
        return [_wire(self.topic_id, r.seq, r.type, r.data) for r in rows]

    def _backlog(self, after: int | None, last_seq: int) -> dict[str, Any]:
        """What a reader at ``after`` needs to reach ``last_seq``: the events, or a reload
        when it is too far behind (or ahead: a seq this topic never reached)."""
        if after is None or after == last_seq:
            return {"last_seq": last_seq, "reload": False, "events": []}
        if after > last_seq or last_seq - after > MAX_BACKLOG:
            return {"last_seq": last_seq, "reload": True, "events": []}
        return {
            "last_seq": last_seq,
            "reload": False,
            "events": self._events_after(after, last_seq),
        }

    def _initial_state(self, after: int | None) -> dict[str, Any]:
        topic = self._readable_topic()
        return self._backlog(after, int(topic.last_seq))

    def _gap_fill(self, upto: int) -> list[dict[str, Any]]:
        return self._events_after(self.last_seq, upto)

    def _lost_access(self) -> str | None:
        """Why the reader may no longer read the topic ("deleted", "access_revoked"), or
        None if it still may."""
        from community.forums.models import Topic

        try:
            self._readable_topic()
        except Refused:
            gone = Topic.objects.filter(pk=self.topic_id, is_deleted=False).exists()
            return "access_revoked" if gone else "deleted"
        return None

    def _merged_target_visible(self) -> bool:
        from community.forums import access
        from community.forums.models import Topic

        target = (
            Topic.objects.select_related("category")
            .filter(pk__in=Topic.objects.filter(pk=self.topic_id).values("merged_into"))
            .first()
        )
        return target is not None and access.can_see_topic(self.user, target)

    # --- sending stream events ----------------------------------------------------------------
    async def _gone(self, reason: str | None = None) -> None:
        """The reader may no longer read the topic: say why and close (4404 when the
        topic was deleted, 4403 when the reader lost access to it)."""
        if reason is None:
            reason = await database_sync_to_async(self._lost_access)() or "access_revoked"
        await self.send_event("topic.gone", {"reason": reason})
        forbidden = reason == "access_revoked"
        await self.close(code=CloseCode.FORBIDDEN if forbidden else CloseCode.NOT_FOUND)

    async def _deliver(self, item: dict[str, Any]) -> bool:
        """Send one stream event the reader has not had; False if the socket was closed
        because the reader may no longer read the topic."""
        if item["type"] in RECHECK_TYPES:
            if item["type"] == "topic.merged":
                # The topic is gone for everyone; tell readers where it went only if they
                # may read the target.
                if not await database_sync_to_async(self._merged_target_visible)():
                    item = {**item, "data": {**item["data"], "into": None}}
                await self.send_json(item)
                self.last_seq = item["seq"]
                await self.close(code=CloseCode.NOT_FOUND)
                return False
            reason = await database_sync_to_async(self._lost_access)()
            if reason is not None:
                await self._gone(reason)
                return False
        await self.send_json(item)
        self.last_seq = item["seq"]
        return True

    async def topic_event(self, message: dict[str, Any]) -> None:
        """A live event from the topic's group."""
        item = message["event"]
        seq = int(item["seq"])
        if self.closing or seq <= self.last_seq:
            return  # already sent (from the backlog, a gap fill or a resume)
        if seq > self.last_seq + 1:
            try:
                missing = await database_sync_to_async(self._gap_fill)(seq - 1)
            except Exception:
                # The client reconnects with ?after= and gets the events from there.
                logger.exception("filling a gap in topic %s failed", self.topic_id)
                await self.close(code=CloseCode.TRY_AGAIN)
                return
            for earlier in missing:
                if not await self._deliver(earlier):
                    return
        await self._deliver(item)

    # --- actions -------------------------------------------------------------------------
    async def action_resume(self, data: dict[str, Any], ref: Any) -> dict[str, Any] | None:
        """The client saw a gap: send the events after ``after`` again, in order (or
        ``reload`` when that is more than the backlog)."""
        after = data.get("after")
        if isinstance(after, bool) or not isinstance(after, int) or after < 0:
            message = _("after must be a whole number of 0 or more (the last seq you saw).")
            raise ProtocolError(ErrorCode.INVALID, message, {"after": [message]})
        try:
            state = await database_sync_to_async(self._resume_state)(after)
        except Refused:
            await self._gone()
            return None
        if state["reload"]:
            await self.send_event("reload", {"last_seq": state["last_seq"]})
        for item in state["events"]:
            await self.send_json(item)
        self.last_seq = max(self.last_seq, state["last_seq"])
        return {
            "after": after,
            "last_seq": state["last_seq"],
            "sent": len(state["events"]),
            "reload": state["reload"],
        }

    async def action_ping(self, data: dict[str, Any], ref: Any) -> dict[str, Any] | None:
        """Besides the pong: now and then, catch up with the database and rejoin the
        groups, so that a lost broadcast or an expired group entry heals by itself."""
        now = time.monotonic()
        if now - self.joined_at >= REJOIN_SECONDS:
            self.joined_at = now
            for group in self.groups_joined:
                try:
                    await self.channel_layer.group_add(group, self.channel_name)
                except Exception:
                    logger.warning("rejoining %s failed; trying again later", group)
                    self.joined_at = 0.0
        if now - self.checked_at >= CATCH_UP_SECONDS:
            self.checked_at = now
            try:
                state = await database_sync_to_async(self._resume_state)(self.last_seq)
            except Refused:
                await self._gone()
                return None
            if state["reload"]:
                await self.send_event("reload", {"last_seq": state["last_seq"]})
                self.last_seq = state["last_seq"]
            for item in state["events"]:
                if not await self._deliver(item):
                    return None
        return await super().action_ping(data, ref)

    def _resume_state(self, after: int) -> dict[str, Any]:
        topic = self._readable_topic()
        # Up to the topic's latest event: those not yet sent live are sent now, and their
        # live copies are dropped when they arrive.
        return self._backlog(after, max(self.last_seq, int(topic.last_seq)))

    # --- events from the member's own group ---------------------------------------------------
    async def hub_event(self, message: dict[str, Any]) -> None:
        """The member's notifications go to the notifications socket, not here."""

    async def session_revoked(self, message: dict[str, Any]) -> None:
        session = self.scope.get("session")
        if session is not None and session.session_key == message.get("session_key"):
            await self.send_event("session.revoked", {"reason": "logged_out"})
            await self.close(code=CloseCode.REVOKED)

    async def user_revoked(self, message: dict[str, Any]) -> None:
        await self.send_event("session.revoked", {"reason": "access_revoked"})
        await self.close(code=CloseCode.REVOKED)
