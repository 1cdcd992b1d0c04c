"""``/ws/workshops/<id>/``: a workshop's live room (see docs/realtime-protocol.md).

Room sockets do not get a channel-layer channel each: the consumer names a layer alias
that is not configured, so channels' ``AsyncConsumer`` skips the layer for it
(``get_channel_layer`` returns None for an unknown alias), and the process's ``RoomHub``
(realtime/rooms.py) delivers room events to it instead, from one layer channel per
process. Every action goes through the room's domain services, which authorise it.

Connecting: a member of the room (registered, or a facilitator; any member for an open
workshop) gets ``hello``, then either ``room.snapshot`` or, with ``?after=<seq>``,
``room.resume`` with the stream events after that seq (or ``room.reload`` and a
snapshot when too far behind). The socket is registered with the hub BEFORE the initial
state is read, and the hub holds the events that arrive meanwhile and releases them
after it, minus those it already covered: nothing is lost and nothing is sent twice.
"""

from __future__ import annotations

import asyncio
import logging
import urllib.parse
import weakref
from collections import deque
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any, TypeVar

from channels.consumer import get_handler_name
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import OperationalError
from django.utils.translation import gettext as _

from realtime.consumers.base import Handler, HubConsumer, TokenBucket
from realtime.protocol import CloseCode, ErrorCode, ProtocolError, event
from realtime.rooms import RoomSocket, direct_writer, get_hub, room_database

logger = logging.getLogger(__name__)

T = TypeVar("T")
BatchWrite = Callable[[list[Any]], Awaitable[Sequence[Any]]]

# Not in CHANNEL_LAYERS on purpose: the consumer gets no per-socket layer channel.
NO_LAYER_ALIAS = "room-sockets-have-no-layer-channel"
SPECIAL_CODES = ("rate_limited", "slow_mode")
MAX_QUEUED_ACTIONS = 200  # actions of one socket waiting for the one running
CHAT_BATCH = 100  # queued chat.send actions of one socket posted in one transaction
VOTE_BATCH = 500  # votes of this process's sockets on one poll cast in one transaction
CHAT_POSTS_BATCH = 50  # sockets' chat posts in one room written in one transaction


class Batcher:
    """Writes of this process's sockets to one room that arrive together, run as one
    (the votes of a room voting at once; chat posts of many senders): a write that finds
    no batch of its kind being written starts one at once; those that arrive while it is
    written wait and go in the next one, up to ``limit``, with one transaction for all of
    them. In a quiet room every write runs alone and waits for nothing; in a busy one
    the room's lock is taken once per batch instead of once per write, and the database
    threads do not queue behind each other on it. Each write gets its own result."""

    def __init__(self) -> None:
        self.waiting: dict[Hashable, list[tuple[Any, asyncio.Future[Any]]]] = {}
        self.writing: dict[Hashable, asyncio.Future[None]] = {}
        self.batches = 0  # batches written, for tests

    async def submit(self, key: Hashable, item: Any, write: BatchWrite, limit: int) -> Any:
        """``item``'s result from ``write(items)`` (one per item, in order), or the
        exception ``write`` raised for the whole batch."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.waiting.setdefault(key, []).append((item, future))
        if key not in self.writing:
            self.writing[key] = asyncio.ensure_future(self._write(key, write, limit))
        return await future

    async def _write(self, key: Hashable, write: BatchWrite, limit: int) -> None:
        try:
            while self.waiting.get(key):
                batch = self.waiting.pop(key)
                if len(batch) > limit:
                    batch, self.waiting[key] = batch[:limit], batch[limit:]
                self.batches += 1
                results: list[Any]
                try:
                    results = list(await write([item for item, _ in batch]))
                except Exception as exc:  # the batch as a whole: every write answers it
                    results = [exc] * len(batch)
                for (_item, future), result in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(result)
        finally:
            self.writing.pop(key, None)
            for _item, future in self.waiting.pop(key, []):
                if not future.done():
                    future.set_result(RuntimeError("the batch was not written"))


_batchers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Batcher] = (
    weakref.WeakKeyDictionary()
)


def batcher() -> Batcher:
    """This event loop's batcher (one per process; tests run on loops of their own)."""
    loop = asyncio.get_running_loop()
    found = _batchers.get(loop)
    if found is None:
        found = _batchers[loop] = Batcher()
    return found


def _raiser(exc: BaseException) -> Callable[[], None]:
    def run() -> None:
        raise exc

    return run


class AccessRevoked(Exception):
    """The member may no longer be in the room (removed, unregistered, cancelled)."""


def _error_codes(exc: ValidationError) -> set[str]:
    errors: list[ValidationError] = []
    if hasattr(exc, "error_dict"):
        for items in exc.error_dict.values():
            errors.extend(items)
    else:
        errors.extend(exc.error_list)
    return {e.code for e in errors if e.code}


def _fields(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {key: [str(m) for m in msgs] for key, msgs in exc.message_dict.items()}
    return {"data": [str(m) for m in exc.messages]}


def _arg(data: dict[str, Any], key: str, default: Any = None) -> Any:
    """An action argument, unchecked: the services validate what they are given."""
    return data.get(key, default)


def _after(query_string: bytes) -> int | None:
    values = urllib.parse.parse_qs(query_string.decode("latin-1")).get("after")
    if not values:
        return None
    try:
        after = int(values[-1])
    except ValueError:
        return None
    return after if after >= 0 else None


class RoomConsumer(HubConsumer):
    require_member = True
    channel_layer_alias = NO_LAYER_ALIAS

    sock: RoomSocket | None = None
    attendance_id: int | None = None
    _worker: asyncio.Future[None] | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._actions: deque[tuple[Handler, dict[str, Any], Any]] = deque()

    async def dispatch(self, message: dict[str, Any]) -> None:
        """channels' dispatch, without its ``aclose_old_connections`` before every
        message: that is one more trip through the single database thread per frame a
        client sends, queued behind everyone's actions. Every database call of this
        consumer goes through ``database_sync_to_async``, which closes stale connections
        itself."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    # --- lifecycle -----------------------------------------------------------------------
    async def connect(self) -> None:
        from workshops.room.selectors import room_access
        from workshops.room.services import room_join

        self.user = self.scope.get("user")
        if not (self.user is not None and self.user.is_authenticated):
            await self.close(code=CloseCode.UNAUTHENTICATED)
            return
        self.bucket = TokenBucket(settings.REALTIME_RATE_PER_SECOND, settings.REALTIME_RATE_BURST)
        self.workshop_id = int(self.scope["url_route"]["kwargs"]["workshop_id"])
        try:
            access = await room_database(room_access)(workshop_id=self.workshop_id, user=self.user)
        except PermissionDenied:
            await self._refuse(CloseCode.FORBIDDEN)
            return
        except ObjectDoesNotExist:
            await self._refuse(CloseCode.NOT_FOUND)
            return
        self.workshop = access.workshop
        self.is_facilitator = access.is_facilitator
        # Join the hub first: every event committed from now on reaches this socket.
        hub = get_hub()
        try:
            self.sock = await hub.join(
                self.workshop_id, self, user_id=self.user.pk, is_facilitator=self.is_facilitator
            )
        except Exception:
            logger.exception("joining room %s failed (channel layer down?)", self.workshop_id)
            await self._refuse(CloseCode.TRY_AGAIN)
            return
        try:
            attendance = await room_database(room_join)(workshop=self.workshop, user=self.user)
        except (PermissionDenied, ObjectDoesNotExist) as exc:
            await hub.leave(self.sock)
            self.sock = None
            forbidden = isinstance(exc, PermissionDenied)
            await self._refuse(CloseCode.FORBIDDEN if forbidden else CloseCode.NOT_FOUND)
            return
        self.attendance_id = attendance.pk
        await self.accept()
        if getattr(settings, "ROOM_DIRECT_WRITES", True):
            # On daphne the hub writes its frames straight to this socket's transport.
            self.sock.raw = direct_writer(self.base_send)
        await self.send_event("hello", await self.hello_data())
        seq = await self._send_initial_state(_after(self.scope.get("query_string", b"")))
        kicked = await hub.ready(self.sock, seq)
        if kicked is not None:
            await self._kicked(kicked)

    async def _refuse(self, code: int) -> None:
        """Accept, then close with ``code``: a close before accepting reaches browsers
        as a bare 403 (close code 1006), and they could not tell "you may not enter"
        (stop) from a network fault (retry)."""
        await self.accept()
        await self.close(code=code)

    async def hello_data(self) -> dict[str, Any]:
        data = await super().hello_data()
        data["room"] = {"id": self.workshop_id, "is_facilitator": self.is_facilitator}
        return data

    async def disconnect(self, code: int) -> None:
        from workshops.room.services import room_leave

        if self.sock is not None:
            await get_hub().leave(self.sock)
            self.sock = None
        if self._worker is not None and not self._worker.done():
            # Actions the client sent before it left still run (as they would have,
            # one at a time, before the disconnect was handled).
            try:
                await self._worker
            except Exception:
                logger.exception("a room action failed after its socket closed")
        if self.attendance_id is not None:
            attendance_id, self.attendance_id = self.attendance_id, None
            for attempt in range(1, 6):
                try:
                    await room_database(room_leave)(attendance_id=attendance_id)
                except ObjectDoesNotExist:
                    break  # the workshop (and its attendance) was deleted meanwhile
                except OperationalError:
                    # SQLite refuses a write that races another process's ("database is
                    # locked"); when a whole room disconnects at once, try again shortly.
                    if attempt == 5:
                        logger.exception(
                            "recording the leave of attendance %s failed", attendance_id
                        )
                    else:
                        await asyncio.sleep(0.1 * attempt)
                        continue
                except Exception:
                    logger.exception("recording the leave of attendance %s failed", attendance_id)
                break

    async def _kicked(self, reason: str) -> None:
        await self.send_event("room.kicked", {"reason": reason})
        await self.close(code=CloseCode.FORBIDDEN)

    # --- the initial state and gap fills -------------------------------------------------------
    def _state_after(self, after: int | None) -> dict[str, Any]:
        """What a socket starting at ``after`` needs (runs in the database thread)."""
        from workshops.models import PollStatus
        from workshops.room.selectors import (
            polls_for_user,
            presence,
            room_events_since,
            room_snapshot,
        )

        if after is not None:
            events = room_events_since(workshop=self.workshop, after_seq=after)
            if events is not None:
                polls = polls_for_user(
                    workshop=self.workshop, user=self.user, is_facilitator=self.is_facilitator
                )
                return {
                    "events": events,
                    "seq": events[-1]["seq"] if events else after,
                    "presence": presence(workshop_id=self.workshop_id),
                    "tallies": [
                        p["tally"]
                        for p in polls
                        if "tally" in p and p["status"] != PollStatus.DRAFT
                    ],
                }
        snapshot = room_snapshot(workshop=self.workshop, user=self.user)
        return {"snapshot": snapshot, "seq": snapshot["seq"], "reload": after is not None}

    async def _send_initial_state(self, after: int | None) -> int:
        state = await room_database(self._state_after)(after)
        if "snapshot" in state:
            if state["reload"]:
                await self.send_event("room.reload", {"seq": state["seq"]})
            await self.send_event("room.snapshot", state["snapshot"])
        else:
            await self.send_event("room.resume", {"events": state["events"]})
            await self.send_event("presence", state["presence"])
            for tally in state["tallies"]:
                await self.send_event("poll.tally", tally)
        return int(state["seq"])

    # --- running actions ----------------------------------------------------------------------
    async def _dispatch(self, handler: Handler, data: dict[str, Any], ref: Any) -> None:
        """Queue an action: a socket's actions run one after the other, in order, in a
        task of their own, so the socket goes on reading while one runs, and ``chat.send``
        actions waiting behind each other are posted together (one transaction)."""
        if len(self._actions) >= MAX_QUEUED_ACTIONS:
            await self.send_error(
                ErrorCode.RATE_LIMITED, _("Too many actions waiting; slow down."), ref=ref
            )
            return
        self._actions.append((handler, data, ref))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.ensure_future(self._work())

    async def _work(self) -> None:
        actions = self._actions
        while actions:
            handler, data, ref = actions.popleft()
            if getattr(handler, "__name__", "") != "action_chat_send":
                await self._run_action(handler, data, ref)
                continue
            batch = [(data, ref)]
            while (
                actions
                and len(batch) < CHAT_BATCH
                and getattr(actions[0][0], "__name__", "") == "action_chat_send"
            ):
                _handler, data, ref = actions.popleft()
                batch.append((data, ref))
            await self._chat_batch(batch)

    async def _chat_batch(self, batch: list[tuple[dict[str, Any], Any]]) -> None:
        items = [
            (_arg(data, "client_id", str(ref) if ref is not None else None), _arg(data, "body"))
            for data, ref in batch
        ]
        results: list[Any]
        try:
            # Written together with the posts of this process's other sockets in the room.
            outcome = await batcher().submit(
                ("chat", self.workshop_id), (self.user, items), self._write_chats, CHAT_POSTS_BATCH
            )
            if isinstance(outcome, Exception):
                await self._run(_raiser(outcome))  # a member who lost access is closed
            results = list(outcome)
        except Exception as exc:  # the whole batch: each action answers with it
            results = [exc] * len(batch)
        for (data, ref), result in zip(batch, results, strict=True):

            async def answer(
                data: dict[str, Any], ref: Any, result: Any = result
            ) -> dict[str, Any]:
                if isinstance(result, Exception):
                    raise result
                message, created = result
                return {"id": message.pk, "seq": message.seq, "created": created}

            await self._run_action(answer, data, ref)

    async def _write_chats(self, posts: list[Any]) -> Sequence[Any]:
        from workshops.room.services import chat_posts

        return await room_database(chat_posts)(workshop=self.workshop, posts=posts)

    async def _run_action(self, handler: Handler, data: dict[str, Any], ref: Any) -> None:
        async def guarded(data: dict[str, Any], ref: Any) -> dict[str, Any] | None:
            try:
                return await handler(data, ref)
            except ValidationError as exc:
                special = next((c for c in SPECIAL_CODES if c in _error_codes(exc)), None)
                if special is None:
                    raise
                raise ProtocolError(special, " ".join(exc.messages), _fields(exc)) from exc
            except AccessRevoked:
                await self.send_error(ErrorCode.FORBIDDEN, _("You may not do that."), ref=ref)
                await self._kicked("access_revoked")
                return None

        await super()._dispatch(guarded, data, ref)

    def _guard(self, fn: Callable[[], T]) -> T:
        """Run an action (in the database thread); a refusal because the member may no
        longer be in the room at all becomes AccessRevoked (the socket is closed)."""
        from workshops.room.selectors import room_access

        try:
            return fn()
        except PermissionDenied:
            try:
                room_access(workshop_id=self.workshop_id, user=self.user)
            except (PermissionDenied, ObjectDoesNotExist):
                raise AccessRevoked from None
            raise

    async def _run(self, fn: Callable[[], T]) -> T:
        return await room_database(self._guard)(fn)

    # --- chat -------------------------------------------------------------------------------
    async def action_chat_send(self, data: dict[str, Any], ref: Any) -> dict[str, Any]:
        from workshops.room.services import chat_message_post

        client_id = _arg(data, "client_id", str(ref) if ref is not None else None)

        def run() -> dict[str, Any]:
            message, created = chat_message_post(
                workshop=self.workshop, user=self.user, client_id=client_id, body=_arg(data, "body")
            )
            return {"id": message.pk, "seq": message.seq, "created": created}

        return await self._run(run)

    async def action_chat_delete(self, data: dict[str, Any], ref: Any) -> dict[str, Any]:
        from workshops.room.services import chat_message_delete

        def run() -> dict[str, Any]:
            message = chat_message_delete(
                workshop=self.workshop, actor=self.user, message_id=_arg(data, "id")
            )
            return {"id": message.pk, "deleted": True}

        return await self._run(run)

    async def action_chat_lock(self, data: dict[str, Any], ref: Any) -> dict[str, Any]:
        from workshops.room.services import room_chat_lock

        def run() -> dict[str, Any]:
            workshop = room_chat_lock(
                workshop=self.workshop, actor=self.user, locked=_arg(data, "locked")
            )
            return {"locked": workshop.chat_locked}

        return await self._run(run)

    async def action_chat_slow_mode(self, data: dict[str, Any], ref: Any) -> dict[str, Any]:
        from workshops.room.services import room_slow_mode

        def run() -> dict[str, Any]:
            workshop = room_slow_mode(
                workshop=self.workshop, actor=self.user, seconds=_arg(data, "seconds")
            )
            return {"seconds": workshop.slow_mode_seconds}

        return await self._run(run)

    # --- the session --------------------------------------------------------------------------
    async def action_room_start(self, data: dict[str, Any], ref: Any) -> dict[str, Any]:
        from workshops.room.services import room_session_start

        def run() -> dict[str, Any]:
            workshop = room_session_start(workshop=self.workshop, actor=self.user)
            return {"status": workshop.status}

        return await self._run(run)

    async def action_room_end(self, data: dict[str, Any], ref: Any) -> dict[str, Any]:
        from workshops.room.services import room_session_end

        def run() -> dict[str, Any]:
            workshop = room_session_end(workshop=self.workshop, actor=self.user)
            return {"status": workshop.status}

        return await self._run(run)

    # --- participants -----------------------------------------------------------------------
    async def action_participant_mute(self, data: dict[str, Any], ref: Any) -> dict[str, Any]:
        from workshops.room.services import room_participant_mute

        def run() -> dict[str, Any]:
            registration = room_participant_mute(
                workshop=self.workshop,
                actor=self.user,
                user_id=_arg(data, "user_id"),
                muted=_arg(data, "muted"),
            )
            return {"user_id": registration.user_id, "muted": registration.muted_at is not None}

        return await self._run(run)

    async def action_participant_remove(self, data: dict[str, Any], ref: Any) -> dict[str, Any]:
        from workshops.room.services import room_participant_remove

        def run() -> dict[str, Any]:
            registration = room_participant_remove(
                workshop=self.workshop, actor=self.user, user_id=_arg(data, "user_id")
            )
            return {"user_id": registration.user_id, "removed": True}

        return await self._run(run)

    # --- polls --------------------------------------------------------------------------------
    async def action_poll_create(self, data: dict[str, Any], ref: Any) -> dict[str, Any]:
        from workshops.room.selectors import poll_for_user
        from workshops.room.services import poll_create

        client_id = _arg(data, "client_id", str(ref) if ref is not None else None)

        def run() -> dict[str, Any]:
            poll, created = poll_create(
                workshop=self.workshop,
                actor=self.user,
                client_id=client_id,
                question=_arg(data, "question"),
                kind=_arg(data, "kind"),
                options=_arg(data, "options", []),
                anonymous=_arg(data, "anonymous", False),
                results=_arg(data, "results", "live"),
            )
            return {"poll": poll_for_user(poll=poll, user=self.user), "created": created}

        return await self._run(run)

    async def _poll_action(self, name: str, data: dict[str, Any]) -> dict[str, Any]:
        from workshops.room import services

        action = getattr(services, name)

        def run() -> dict[str, Any]:
            poll = action(workshop=self.workshop, actor=self.user, poll_id=_arg(data, "poll_id"))
            return {"poll_id": poll.pk, "status": poll.status, "revealed": poll.revealed}

        return await self._run(run)

    async def action_poll_open(self, data: dict[str, Any], ref: Any) -> dict[str, Any]:
        return await self._poll_action("poll_open", data)

    async def action_poll_close(self, data: dict[str, Any], ref: Any) -> dict[str, Any]:
        return await self._poll_action("poll_close", data)

    async def action_poll_reveal(self, data: dict[str, Any], ref: Any) -> dict[str, Any]:
        return await self._poll_action("poll_reveal", data)

    async def action_poll_vote(self, data: dict[str, Any], ref: Any) -> dict[str, Any]:
        from workshops.room.services import poll_vote_cast, poll_votes_cast

        poll_id, choices = _arg(data, "poll_id"), _arg(data, "choices")
        if isinstance(poll_id, int) and not isinstance(poll_id, bool):
            # Cast together with the votes of this process's other sockets on the poll.
            async def write(ballots: list[Any]) -> Sequence[Any]:
                return await room_database(poll_votes_cast)(
                    workshop=self.workshop, poll_id=poll_id, ballots=ballots
                )

            result = await batcher().submit(
                ("vote", self.workshop_id, poll_id), (self.user, choices), write, VOTE_BATCH
            )
            if isinstance(result, Exception):
                await self._run(_raiser(result))  # a member who lost access is closed
            return {"poll_id": result.poll_id, "choices": result.choices}

        def run() -> dict[str, Any]:
            vote = poll_vote_cast(
                workshop=self.workshop, user=self.user, poll_id=poll_id, choices=choices
            )
            return {"poll_id": vote.poll_id, "choices": vote.choices}

        return await self._run(run)

    # --- gap fill --------------------------------------------------------------------------------
    async def action_sync(self, data: dict[str, Any], ref: Any) -> None:
        from workshops.room.selectors import room_events_since

        after = _arg(data, "after")
        if isinstance(after, bool) or not isinstance(after, int) or after < 0:
            raise ValidationError({"after": _("Give the last sequence number you saw.")})

        def run() -> tuple[list[dict[str, Any]] | None, int]:
            from workshops.models import Workshop

            events = room_events_since(workshop=self.workshop, after_seq=after)
            last = Workshop.objects.values_list("last_seq", flat=True).get(pk=self.workshop_id)
            return events, last

        events, last_seq = await self._run(run)
        if events is None:
            await self.send_json(event("room.reload", {"seq": last_seq}, ref=ref))
        else:
            await self.send_json(event("room.resume", {"events": events}, ref=ref))
        return None
