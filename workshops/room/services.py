"""Every change in a live room: presence, chat, moderation, the session, polls and votes.

Each stream event is a RoomEvent row whose seq is ``workshop.last_seq + 1``, assigned
under ``select_for_update`` of the workshop row in the same transaction as the write, so
a room's seqs are 1, 2, 3, ... with no gap and no duplicate, and commits happen in seq
order. Broadcasts go only through ``realtime.events`` and run after commit: a write that
rolls back broadcasts nothing. Every function is synchronous and keyword-only; they raise
ValidationError (a dict naming the field) for bad input, PermissionDenied for a wrong
actor, and ObjectDoesNotExist (Workshop/ChatMessage/Poll/User.DoesNotExist) for unknown
ids and ids of another room.

INTERFACE CHANGES (additions to the agreed interface; nothing agreed was renamed):

- Tally "counts" and facilitators' "voters" are keyed by strings (``str(option_id)``, or
  "1".."5" for ratings), as they are in JSON (orjson refuses int keys). A rating tally's
  "mean" is None while there is no vote.
- "chat.message" data (and the snapshot's chat items) also carry "seq".
- Poll dicts: {"id", "question", "kind", "anonymous", "results", "status", "revealed",
  "options": [{"id", "label"}]}; poll_for_user adds "tally_visible", "tally" (when
  visible), "your_vote" (list or None) and, for facilitators of a non-anonymous poll,
  "voters". Poll events carry the same public dict, with "tally" when everyone may see it.
- Extra selectors: poll_tally_visible(*, poll, is_facilitator) -> bool (the hub uses it
  to send "poll.tally" only to those allowed), access_check(*, workshop, user) (room_access
  on a loaded workshop), polls_for_user, poll_public, chat_message_data, room_events_page
  (the REST history pages), room_muted_user_ids (the page's mute buttons). Ids, flags
  and choices of the wrong type (a string id, "yes" for a bool) are ValidationError.
- Returns: room_session_start/end, room_chat_lock, room_slow_mode -> Workshop;
  room_participant_mute/remove -> Registration; chat_message_delete -> ChatMessage;
  poll_open/close/reveal -> Poll. The workshop passed in is updated in place.
- Repeating an action that changes nothing (lock a locked chat, open an open poll, delete
  a deleted message, start a live session) is a no-op without an event, so retries are
  safe. Invalid transitions (open a closed poll, start an ended session) are ValidationError.
- room_session_end closes the open polls first ("poll.closed" events, then "session.ended").
- chat_message_delete also blanks the stored "chat.message" event (html "", "deleted":
  true), so the history never serves deleted text; the "chat.deleted" event follows.
- The chat rate limit is settings.ROOM_CHAT_RATE = (messages, seconds), default (5, 10),
  per member per room; facilitators are exempt from it as from slow mode. Chat refusals
  are ValidationError on "body" with codes "chat_closed", "chat_locked", "slow_mode",
  "rate_limited" (and "required"/"max_length" for the text).
- Muting or removing a member of an open workshop who has no registration creates one
  with status "cancelled" (it takes no seat) to hold muted_at/removed_at. Facilitators
  cannot be muted or removed (ValidationError on "user_id"). A user id "belongs" to the
  room when the user has a registration in it or has been in it (attendance).
"""

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Prefetch, Q, prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from community.markup import render_markdown
from community.models import User
from realtime import events
from workshops.models import (
    Attendance,
    ChatMessage,
    Poll,
    PollKind,
    PollOption,
    PollStatus,
    Registration,
    RegistrationStatus,
    ResultsVisibility,
    RoomEvent,
    Vote,
    Workshop,
    WorkshopStatus,
)
from workshops.room.selectors import (
    RoomAccess,
    access_check,
    access_check_many,
    chat_message_data,
    iso,
    poll_public,
    poll_tally,
    poll_tally_visible,
    polls_with_options,
    workshop_with_access,
)

CHAT_MAX_LENGTH = 2000
CLIENT_ID_MAX_LENGTH = 64
SLOW_MODE_MAX_SECONDS = 600
QUESTION_MAX_LENGTH = 300
OPTION_MAX_LENGTH = 200
POLL_OPTIONS_MIN, POLL_OPTIONS_MAX = 2, 10
DEFAULT_CHAT_RATE = (5, 10)  # messages, seconds
CHAT_OPEN = (WorkshopStatus.SCHEDULED, WorkshopStatus.LIVE)
ROOM_STATE_FIELDS = (
    "status",
    "chat_locked",
    "slow_mode_seconds",
    "live_started_at",
    "live_ended_at",
    "last_seq",
)


# --- plumbing -----------------------------------------------------------------------------
def _lock(workshop: Workshop, user: Any = None) -> Workshop:
    """The workshop row, locked until the transaction ends (the stream's seq lock); with
    ``user``, loaded with what ``access_check`` needs to know about them."""
    if user is not None:
        return workshop_with_access(workshop.pk, user, lock=True)
    return Workshop.objects.select_for_update(of=("self",)).get(pk=workshop.pk)


def _sync(workshop: Workshop, locked: Workshop) -> None:
    """Give the caller's instance the room state written under the lock."""
    if workshop is not locked:
        for field in ROOM_STATE_FIELDS:
            setattr(workshop, field, getattr(locked, field))


def _append(locked: Workshop, type_: str, data: dict[str, Any]) -> int:
    """Add an event to the room's stream (``locked`` must be the locked row) and
    broadcast it after commit. Returns its seq."""
    return _append_many(locked, [(type_, data)])[0]


def _append_many(locked: Workshop, items: Sequence[tuple[str, dict[str, Any]]]) -> list[int]:
    """Add events to the room's stream in order, with two statements whatever their
    number, and broadcast them after commit. Returns their seqs."""
    first = locked.last_seq + 1
    rows = [
        RoomEvent(workshop=locked, seq=first + i, type=type_, data=data)
        for i, (type_, data) in enumerate(items)
    ]
    RoomEvent.objects.bulk_create(rows)
    locked.last_seq = first + len(rows) - 1
    Workshop.objects.filter(pk=locked.pk).update(last_seq=locked.last_seq)
    for row in rows:
        events.room_broadcast(
            workshop_id=locked.pk, event={"type": row.type, "seq": row.seq, "data": row.data}
        )
    return [row.seq for row in rows]


@contextmanager
def _room_change(
    workshop: Workshop, actor: Any = None, *, facilitators_only: bool = True
) -> Iterator[Workshop]:
    """The common frame of a change to a room's stream: a transaction holding the
    room's seq lock (the row loaded with what the access check needs to know about
    ``actor``), the actor checked as a facilitator (unless ``facilitators_only`` is
    False), and the caller's instance updated with what was written once it commits.
    Yields the locked row."""
    with transaction.atomic():
        locked = _lock(workshop, actor)
        if actor is not None and facilitators_only:
            _facilitator(locked, actor)
        yield locked
    _sync(workshop, locked)


def _room_setting(locked: Workshop, field: str, value: Any, type_: str, data: Any) -> None:
    """Set one of the room's settings; a change (only) is saved and becomes an event."""
    if getattr(locked, field) != value:
        setattr(locked, field, value)
        locked.save(update_fields=[field])
        _append(locked, type_, data)


def _facilitator(workshop: Workshop, actor: Any) -> RoomAccess:
    access = access_check(workshop=workshop, user=actor)
    if not access.is_facilitator:
        raise PermissionDenied(_("Only the workshop's facilitators may do that."))
    return access


def _int(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError({field: _("Give a whole number.")}, code="invalid")
    return value


def _bool(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationError({field: _("Give true or false.")}, code="invalid")
    return value


def _client_id(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError({"client_id": _("A client id is required.")}, code="required")
    value = value.strip()
    if len(value) > CLIENT_ID_MAX_LENGTH:
        raise ValidationError(
            {"client_id": _("At most %d characters.") % CLIENT_ID_MAX_LENGTH}, code="max_length"
        )
    return value


def _body_error(message: str, code: str) -> ValidationError:
    return ValidationError({"body": ValidationError(message, code=code)})


# --- presence -----------------------------------------------------------------------------
def room_join(*, workshop: Workshop, user: Any) -> Attendance:
    """Record that ``user`` entered the room (one Attendance per socket)."""
    fresh = Workshop.objects.get(pk=workshop.pk)
    access_check(workshop=fresh, user=user)
    with transaction.atomic():
        attendance = Attendance.objects.create(workshop=fresh, user=user, joined_at=timezone.now())
        events.room_dirty(workshop_id=fresh.pk, what="presence")
    return attendance


def room_leave(*, attendance_id: int) -> None:
    """Record that the socket of this attendance left (a second call changes nothing)."""
    with transaction.atomic():
        attendance = Attendance.objects.select_for_update().get(pk=_int(attendance_id, "id"))
        if attendance.left_at is None:
            attendance.left_at = timezone.now()
            attendance.save(update_fields=["left_at"])
            events.room_dirty(workshop_id=attendance.workshop_id, what="presence")


# --- chat ---------------------------------------------------------------------------------
def _chat_body(body: Any) -> str:
    if not isinstance(body, str) or not body.strip():
        raise _body_error(_("Write a message first."), "required")
    body = body.strip()
    if len(body) > CHAT_MAX_LENGTH:
        raise _body_error(
            _("Messages are at most %(limit)d characters (this one has %(length)d).")
            % {"limit": CHAT_MAX_LENGTH, "length": len(body)},
            "max_length",
        )
    return body


def _check_rate(workshop_id: int, user_id: int) -> None:
    """A sliding window per member and room, kept in the cache. Callers hold the room's
    lock, so reads and writes of one member's window do not interleave."""
    count, seconds = getattr(settings, "ROOM_CHAT_RATE", DEFAULT_CHAT_RATE)
    key = f"room:chat-rate:{workshop_id}:{user_id}"
    now = time.time()
    stamps = [stamp for stamp in cache.get(key, []) if stamp > now - seconds]
    if len(stamps) >= count:
        wait = max(int(stamps[0] + seconds - now) + 1, 1)
        raise _body_error(
            ngettext(
                "You are sending messages too fast. Try again in %(n)d second.",
                "You are sending messages too fast. Try again in %(n)d seconds.",
                wait,
            )
            % {"n": wait},
            "rate_limited",
        )
    stamps.append(now)
    cache.set(key, stamps, timeout=seconds + 1)


def _check_slow_mode(workshop: Workshop, user: Any, last_at: list[Any]) -> None:
    """``last_at`` carries the member's last message time between the messages of one
    batch (empty: read it)."""
    seconds = workshop.slow_mode_seconds
    if not seconds:
        return
    if not last_at:
        last_at.append(
            ChatMessage.objects.filter(workshop=workshop, author=user)
            .order_by("-seq")
            .values_list("created_at", flat=True)
            .first()
        )
    last = last_at[0]
    if last is None:
        return
    wait = seconds - (timezone.now() - last).total_seconds()
    if wait > 0:
        raise _body_error(
            ngettext(
                "Slow mode is on: you can send one message every %(every)d second. "
                "Wait %(n)d more.",
                "Slow mode is on: you can send one message every %(every)d seconds. "
                "Wait %(n)d more.",
                seconds,
            )
            % {"every": seconds, "n": int(wait) + 1},
            "slow_mode",
        )


def chat_message_post(
    *, workshop: Workshop, user: Any, client_id: str, body: str
) -> tuple[ChatMessage, bool]:
    """Post a chat message; a retry with the same ``client_id`` returns the original
    (created False), also when the two race."""
    result = chat_messages_post(workshop=workshop, user=user, items=[(client_id, body)])[0]
    if isinstance(result, Exception):
        raise result
    return result


ChatResult = tuple[ChatMessage, bool] | ValidationError | PermissionDenied


def chat_messages_post(
    *, workshop: Workshop, user: Any, items: Sequence[tuple[Any, Any]]
) -> list[ChatResult]:
    """Post several chat messages of one member, in order, in one transaction: each
    ``(client_id, body)`` gets ``(message, created)`` or the error that refused it
    (ValidationError, PermissionDenied), as ``chat_message_post`` would have, one after
    the other. A socket's queued ``chat.send`` actions go through here together: one
    lock, one access check, one commit for all of them.

    A refusal of the member themselves (no longer allowed in the room) raises for the
    whole batch. A retry returns the original, also when the two race: the existing
    messages are read under the room's lock, which every post takes."""
    (result,) = chat_posts(workshop=workshop, posts=[(user, items)])
    if isinstance(result, Exception):
        raise result
    return result


def chat_posts(
    *, workshop: Workshop, posts: Sequence[tuple[Any, Sequence[tuple[Any, Any]]]]
) -> list[list[ChatResult] | PermissionDenied]:
    """``chat_messages_post`` for several members at once, ``(user, items)`` each, in one
    transaction under one hold of the room's lock (the posts of a room's sockets that
    arrive together): each post gets its list of results, or the PermissionDenied that
    refused its member. Messages get their seqs in the order given."""
    outcome: list[list[ChatResult | None] | PermissionDenied] = []
    # Checked and rendered before the room's lock is taken: the lock serialises every
    # post in the room, so it is held only for the database work.
    cleaned: list[list[tuple[int, str, str, str]]] = []
    for _user, items in posts:
        results: list[ChatResult | None] = [None] * len(items)
        good: list[tuple[int, str, str, str]] = []
        for i, (client_id, body) in enumerate(items):
            try:
                cid, text = _client_id(client_id), _chat_body(body)
                good.append((i, cid, text, str(render_markdown(text, lite=True))))
            except ValidationError as exc:
                results[i] = exc
        outcome.append(results)
        cleaned.append(good)
    if any(cleaned):
        with transaction.atomic():
            if len(posts) == 1:  # one statement locks the room and loads the access
                locked = _lock(workshop, posts[0][0])
                accesses: list[RoomAccess | PermissionDenied] = []
                try:
                    accesses.append(access_check(workshop=locked, user=posts[0][0]))
                except PermissionDenied as exc:
                    accesses.append(exc)
            else:
                locked = _lock(workshop)
                accesses = access_check_many(workshop=locked, users=[u for u, _ in posts])
            client_ids = {c for good in cleaned for _, c, _, _ in good}
            authors = {user.pk for (user, _), good in zip(posts, cleaned, strict=True) if good}
            posted = _posted(locked.pk, authors, client_ids)
            new: list[ChatMessage] = []
            last_at: dict[int, list[Any]] = {}  # slow mode: each member's last message time
            for k, ((user, _items), good) in enumerate(zip(posts, cleaned, strict=True)):
                access = accesses[k]
                if isinstance(access, PermissionDenied):
                    outcome[k] = access
                    continue
                answers = outcome[k]
                assert isinstance(answers, list)
                for i, client_id, body, html in good:
                    twin = posted.get((user.pk, client_id))
                    if twin is not None:  # a retry (or the same id twice in this batch)
                        answers[i] = (twin, False)
                        continue
                    member_last = last_at.setdefault(user.pk, [])
                    try:
                        _chat_allowed(locked, access, user, member_last)
                    except (ValidationError, PermissionDenied) as exc:
                        answers[i] = exc
                        continue
                    message = ChatMessage(
                        workshop=locked,
                        author=user,
                        client_id=client_id,
                        body=body,
                        body_html=html,
                        seq=locked.last_seq + 1 + len(new),
                    )
                    new.append(message)
                    posted[(user.pk, client_id)] = message
                    answers[i] = (message, True)
                    member_last[:] = [timezone.now()]
            if new:
                # No savepoint: a twin with the same client id cannot insert meanwhile
                # (it waits for the lock held here, then finds this one).
                ChatMessage.objects.bulk_create(new)
                _append_many(locked, [("chat.message", chat_message_data(m)) for m in new])
        _sync(workshop, locked)
    return [
        r if isinstance(r, PermissionDenied) else [x for x in r if x is not None] for r in outcome
    ]


def _posted(
    workshop_id: int, authors: set[int], client_ids: set[str]
) -> dict[tuple[int, str], ChatMessage]:
    """The messages already posted with these client ids (retries), by (author, client
    id). Almost always none: the check is one plain statement (building the ORM query
    cost more than running it), and only messages found are loaded as models."""
    if not authors or not client_ids:
        return {}
    table = connection.ops.quote_name(ChatMessage._meta.db_table)
    sql = (
        f"SELECT id, author_id FROM {table} WHERE workshop_id = %s "  # noqa: S608
        f"AND client_id IN ({', '.join(['%s'] * len(client_ids))})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [workshop_id, *client_ids])
        found = [pk for pk, author_id in cursor.fetchall() if author_id in authors]
    if not found:
        return {}
    return {
        (message.author_id, message.client_id): message
        for message in ChatMessage.objects.filter(pk__in=found).select_related("author__profile")
    }


def _chat_allowed(locked: Workshop, access: RoomAccess, user: Any, last_at: list[Any]) -> None:
    """May the member write one more message now? (Callers hold the room's lock.)"""
    if locked.status not in CHAT_OPEN:
        raise _body_error(_("The chat is closed: this workshop has ended."), "chat_closed")
    if access.is_facilitator:
        return
    if access.registration is not None and access.registration.muted_at is not None:
        raise PermissionDenied(_("A facilitator has muted you in this room."))
    if locked.chat_locked:
        raise _body_error(_("The chat is locked: only facilitators can write now."), "chat_locked")
    _check_slow_mode(locked, user, last_at)
    _check_rate(locked.pk, user.pk)


def chat_message_delete(*, workshop: Workshop, actor: Any, message_id: int) -> ChatMessage:
    """Delete a message for everyone: facilitators may delete any, members their own."""
    message_id = _int(message_id, "id")
    with _room_change(workshop, actor, facilitators_only=False) as locked:
        access = access_check(workshop=locked, user=actor)
        message = ChatMessage.objects.get(pk=message_id, workshop=locked)
        if not access.is_facilitator and message.author_id != actor.pk:
            raise PermissionDenied(_("You may delete only your own messages."))
        if message.deleted_at is None:
            message.deleted_at = timezone.now()
            message.deleted_by = actor
            message.save(update_fields=["deleted_at", "deleted_by"])
            stored = RoomEvent.objects.filter(
                workshop=locked, seq=message.seq, type="chat.message"
            ).first()
            if stored is not None:
                stored.data = {**stored.data, "html": "", "deleted": True}
                stored.save(update_fields=["data"])
            _append(locked, "chat.deleted", {"id": message.pk})
    return message


# --- the session and the room's settings --------------------------------------------------
def room_session_start(*, workshop: Workshop, actor: Any) -> Workshop:
    """Go live: a scheduled session starts (a live one stays as it is)."""
    with _room_change(workshop, actor) as locked:
        if locked.status == WorkshopStatus.SCHEDULED:
            locked.status = WorkshopStatus.LIVE
            locked.live_started_at = timezone.now()
            locked.save(update_fields=["status", "live_started_at"])
            _append(
                locked,
                "session.started",
                {"status": locked.status, "live_started_at": iso(locked.live_started_at)},
            )
        elif locked.status != WorkshopStatus.LIVE:
            raise ValidationError({"status": _("This workshop has ended; it cannot restart.")})
    return locked


def room_session_end(*, workshop: Workshop, actor: Any) -> Workshop:
    """End the live session: open polls close, chat closes (an ended one stays ended)."""
    with _room_change(workshop, actor) as locked:
        if locked.status == WorkshopStatus.LIVE:
            for poll in polls_with_options().filter(workshop=locked, status=PollStatus.OPEN):
                _close_poll(locked, poll)
            locked.status = WorkshopStatus.ENDED
            locked.live_ended_at = timezone.now()
            locked.save(update_fields=["status", "live_ended_at"])
            _append(
                locked,
                "session.ended",
                {"status": locked.status, "live_ended_at": iso(locked.live_ended_at)},
            )
        elif locked.status != WorkshopStatus.ENDED:
            raise ValidationError({"status": _("The session has not started.")})
    return locked


def room_chat_lock(*, workshop: Workshop, actor: Any, locked: bool) -> Workshop:
    """Lock the chat (only facilitators write) or unlock it."""
    value = _bool(locked, "locked")
    with _room_change(workshop, actor) as row:
        _room_setting(row, "chat_locked", value, "chat.locked", {"locked": value})
    return row


def room_slow_mode(*, workshop: Workshop, actor: Any, seconds: int) -> Workshop:
    """Allow each member one message per ``seconds`` (0 switches slow mode off)."""
    seconds = _int(seconds, "seconds")
    if not 0 <= seconds <= SLOW_MODE_MAX_SECONDS:
        raise ValidationError(
            {"seconds": _("Slow mode runs from 0 (off) to %d seconds.") % SLOW_MODE_MAX_SECONDS}
        )
    with _room_change(workshop, actor) as locked:
        _room_setting(locked, "slow_mode_seconds", seconds, "chat.slow_mode", {"seconds": seconds})
    return locked


# --- participants -------------------------------------------------------------------------
def _target(locked: Workshop, user_id: Any) -> tuple[User, Registration]:
    """A member of this room (registered in it, or been in it) and their registration,
    created as "cancelled" for an open workshop's visitor. Facilitators are refused."""
    user_id = _int(user_id, "user_id")
    belongs = Q(workshop_registrations__workshop=locked) | Q(
        pk__in=Attendance.objects.filter(workshop=locked).values("user_id")
    )
    target = User.objects.filter(belongs).distinct().get(pk=user_id)
    if locked.facilitators.filter(pk=target.pk).exists():
        raise ValidationError({"user_id": _("Facilitators cannot be muted or removed.")})
    registration = Registration.objects.select_for_update().filter(workshop=locked, user=target)
    found = registration.first()
    if found is None:
        found = Registration.objects.create(
            workshop=locked,
            user=target,
            status=RegistrationStatus.CANCELLED,
            cancelled_at=timezone.now(),
        )
    return target, found


def room_participant_mute(
    *, workshop: Workshop, actor: Any, user_id: int, muted: bool
) -> Registration:
    """Mute a participant (they can read and vote, not write) or unmute them."""
    muted = _bool(muted, "muted")
    with _room_change(workshop, actor) as locked:
        target, registration = _target(locked, user_id)
        if (registration.muted_at is not None) != muted:
            registration.muted_at = timezone.now() if muted else None
            registration.save(update_fields=["muted_at"])
            _append(locked, "participant.muted", {"user_id": target.pk, "muted": muted})
    return registration


def room_participant_remove(*, workshop: Workshop, actor: Any, user_id: int) -> Registration:
    """Remove a participant: their sockets close and they cannot come back."""
    with _room_change(workshop, actor) as locked:
        target, registration = _target(locked, user_id)
        if registration.removed_at is None:
            now = timezone.now()
            registration.removed_at = now
            registration.save(update_fields=["removed_at"])
            left = Attendance.objects.filter(
                workshop=locked, user=target, left_at__isnull=True
            ).update(left_at=now)
            _append(locked, "participant.removed", {"user_id": target.pk})
            events.room_kick(workshop_id=locked.pk, user_id=target.pk, reason="removed")
            if left:
                events.room_dirty(workshop_id=locked.pk, what="presence")
    return registration


# --- polls --------------------------------------------------------------------------------
def _poll_options(kind: str, options: Any) -> list[str]:
    if kind == PollKind.RATING:
        if options:
            raise ValidationError({"options": _("A rating poll has no options: it runs 1-5.")})
        return []
    if not isinstance(options, list | tuple) or not all(isinstance(o, str) for o in options):
        raise ValidationError({"options": _("Give the options as a list of texts.")})
    labels = [option.strip() for option in options if option.strip()]
    if not POLL_OPTIONS_MIN <= len(labels) <= POLL_OPTIONS_MAX:
        raise ValidationError(
            {
                "options": _("Give between %(min)d and %(max)d options.")
                % {"min": POLL_OPTIONS_MIN, "max": POLL_OPTIONS_MAX}
            }
        )
    if any(len(label) > OPTION_MAX_LENGTH for label in labels):
        raise ValidationError(
            {"options": _("Options are at most %d characters.") % OPTION_MAX_LENGTH}
        )
    if len({label.casefold() for label in labels}) != len(labels):
        raise ValidationError({"options": _("Each option may appear once.")})
    return labels


def poll_create(
    *,
    workshop: Workshop,
    actor: Any,
    client_id: str,
    question: str,
    kind: str,
    options: list[str],
    anonymous: bool,
    results: str,
) -> tuple[Poll, bool]:
    """Create a draft poll (not broadcast: only facilitators see drafts). A retry with
    the same ``client_id`` returns the original (created False)."""
    client_id = _client_id(client_id)
    fresh = Workshop.objects.get(pk=workshop.pk)
    _facilitator(fresh, actor)
    existing = Poll.objects.filter(workshop=fresh, created_by=actor, client_id=client_id).first()
    if existing is not None:
        return existing, False
    errors: dict[str, str] = {}
    question = question.strip() if isinstance(question, str) else ""
    if not question:
        errors["question"] = _("Ask a question.")
    elif len(question) > QUESTION_MAX_LENGTH:
        errors["question"] = _("Questions are at most %d characters.") % QUESTION_MAX_LENGTH
    if kind not in PollKind.values:
        errors["kind"] = _("Choose single choice, multiple choice or rating.")
    if results not in ResultsVisibility.values:
        errors["results"] = _("Choose when the results are shown.")
    if not isinstance(anonymous, bool):
        errors["anonymous"] = _("Give true or false.")
    if errors:
        raise ValidationError(errors)
    labels = _poll_options(kind, options)
    if fresh.status not in CHAT_OPEN:
        raise ValidationError({"status": _("This workshop has ended.")})
    try:
        with transaction.atomic():
            poll = Poll.objects.create(
                workshop=fresh,
                created_by=actor,
                client_id=client_id,
                question=question,
                kind=kind,
                anonymous=anonymous,
                results=results,
            )
            PollOption.objects.bulk_create(
                PollOption(poll=poll, label=label, position=i) for i, label in enumerate(labels)
            )
    except IntegrityError:
        existing = Poll.objects.filter(
            workshop=fresh, created_by=actor, client_id=client_id
        ).first()
        if existing is None:
            raise
        return existing, False
    return poll, True


def _poll_for_action(locked: Workshop, poll_id: Any) -> Poll:
    poll_id = _int(poll_id, "poll_id")
    return polls_with_options().select_for_update().get(pk=poll_id, workshop=locked)


def _public_with_tally(poll: Poll) -> dict[str, Any]:
    """The poll's public dict, with the tally when every participant may see it."""
    visible = poll_tally_visible(poll=poll, is_facilitator=False)
    return poll_public(poll, tally=poll_tally(poll=poll) if visible else None)


def _close_poll(locked: Workshop, poll: Poll) -> None:
    poll.status = PollStatus.CLOSED
    poll.closed_at = timezone.now()
    poll.save(update_fields=["status", "closed_at"])
    _append(locked, "poll.closed", _public_with_tally(poll))


@contextmanager
def _poll_change(workshop: Workshop, actor: Any, poll_id: Any) -> Iterator[tuple[Workshop, Poll]]:
    """``_room_change`` for a facilitator's action on one poll of the room (locked
    too); a draft poll can only be opened."""
    with _room_change(workshop, actor) as locked:
        yield locked, _poll_for_action(locked, poll_id)


def _opened(poll: Poll) -> None:
    if poll.status == PollStatus.DRAFT:
        raise ValidationError({"poll_id": _("This poll has not been opened.")})


def poll_open(*, workshop: Workshop, actor: Any, poll_id: int) -> Poll:
    """Open a draft poll for votes (an open one stays open)."""
    with _poll_change(workshop, actor, poll_id) as (locked, poll):
        if poll.status == PollStatus.CLOSED:
            raise ValidationError({"poll_id": _("This poll is closed; it cannot reopen.")})
        if poll.status == PollStatus.DRAFT:
            if locked.status not in CHAT_OPEN:
                raise ValidationError({"status": _("This workshop has ended.")})
            poll.status = PollStatus.OPEN
            poll.opened_at = timezone.now()
            poll.save(update_fields=["status", "opened_at"])
            _append(locked, "poll.opened", _public_with_tally(poll))
    return poll


def poll_close(*, workshop: Workshop, actor: Any, poll_id: int) -> Poll:
    """Close an open poll (a closed one stays closed)."""
    with _poll_change(workshop, actor, poll_id) as (locked, poll):
        _opened(poll)
        if poll.status == PollStatus.OPEN:
            _close_poll(locked, poll)
    return poll


def poll_reveal(*, workshop: Workshop, actor: Any, poll_id: int) -> Poll:
    """Show the results to everyone, whatever the poll's results setting."""
    with _poll_change(workshop, actor, poll_id) as (locked, poll):
        _opened(poll)
        if not poll.revealed:
            poll.revealed = True
            poll.save(update_fields=["revealed"])
            _append(locked, "poll.revealed", poll_public(poll, tally=poll_tally(poll=poll)))
    return poll


_POLL = "SELECT * FROM workshops_poll WHERE id = %s AND workshop_id = %s"
_POLL_SHARED = _POLL + " FOR SHARE"


def _poll_for_vote(workshop: Workshop, poll_id: int) -> Poll:
    """The poll, with a shared lock on its row until the transaction ends: votes hold it
    together, while ``poll_close`` (which locks the row for update) waits for the votes
    in flight and the votes after it find the poll closed. No vote lands once closed."""
    # Django's ORM has no FOR SHARE; SQLite (one writer at a time) needs no lock.
    locking = connection.features.has_select_for_update
    found = next(
        iter(Poll.objects.raw(_POLL_SHARED if locking else _POLL, [poll_id, workshop.pk])), None
    )
    if found is None:
        raise Poll.DoesNotExist("No such poll in this room.")
    if found.kind != PollKind.RATING:
        prefetch_related_objects(
            [found], Prefetch("options", queryset=PollOption.objects.order_by("position"))
        )
    return found


def _choices(poll: Poll, choices: Any) -> list[int]:
    if not isinstance(choices, list | tuple) or not all(
        isinstance(c, int) and not isinstance(c, bool) for c in choices
    ):
        raise ValidationError({"choices": _("Give your choices as a list of numbers.")})
    values = list(choices)
    if poll.kind == PollKind.RATING:
        if len(values) != 1 or not 1 <= values[0] <= 5:
            raise ValidationError({"choices": _("Give one rating from 1 to 5.")})
        return values
    option_ids = {option.pk for option in poll.options.all()}
    if poll.kind == PollKind.SINGLE and len(values) != 1:
        raise ValidationError({"choices": _("Choose exactly one option.")})
    if not values:
        raise ValidationError({"choices": _("Choose at least one option.")})
    if len(set(values)) != len(values):
        raise ValidationError({"choices": _("Choose each option once.")})
    if not set(values) <= option_ids:
        raise ValidationError({"choices": _("Choose among this poll's options.")})
    return sorted(values)


def poll_vote_cast(*, workshop: Workshop, user: Any, poll_id: int, choices: list[int]) -> Vote:
    """Vote in an open poll, or change one's vote while it is open (one vote per member:
    a database constraint guarantees it). Tallies are snapshots: the room is told that
    the poll changed and the hub sends them throttled."""
    (result,) = poll_votes_cast(workshop=workshop, poll_id=poll_id, ballots=[(user, choices)])
    if isinstance(result, Exception):
        raise result
    return result


VoteResult = Vote | ValidationError | PermissionDenied


def poll_votes_cast(
    *, workshop: Workshop, poll_id: int, ballots: Sequence[tuple[Any, Any]]
) -> list[VoteResult]:
    """Several members' votes in one poll, ``(user, choices)`` each, in one transaction
    (a room's sockets' votes that arrive together): each gets its Vote or the error that
    refused it (PermissionDenied, ValidationError), as ``poll_vote_cast`` would have, one
    after the other. A refusal that concerns the poll (unknown, not open) raises for the
    whole batch. A member voting twice in one batch ends with the later choice."""
    poll_id = _int(poll_id, "poll_id")
    results: list[VoteResult | None] = [None] * len(ballots)
    if len(ballots) == 1:  # one statement loads the workshop with the member's access
        fresh = workshop_with_access(workshop.pk, ballots[0][0])
        accesses: list[RoomAccess | PermissionDenied] = []
        try:
            accesses.append(access_check(workshop=fresh, user=ballots[0][0]))
        except PermissionDenied as exc:
            accesses.append(exc)
    else:
        fresh = Workshop.objects.get(pk=workshop.pk)
        accesses = access_check_many(workshop=fresh, users=[user for user, _ in ballots])
    for i, access in enumerate(accesses):
        if isinstance(access, PermissionDenied):
            results[i] = access
    if all(r is not None for r in results):
        return [r for r in results if r is not None]
    with transaction.atomic():
        poll = _poll_for_vote(fresh, poll_id)
        if poll.status != PollStatus.OPEN:
            raise ValidationError({"poll_id": _("This poll is not open for votes.")})
        latest: dict[int, Vote] = {}  # voter -> their last vote in this batch
        for i, (user, choices) in enumerate(ballots):
            if results[i] is not None:
                continue
            try:
                values = _choices(poll, choices)
            except ValidationError as exc:
                results[i] = exc
                continue
            vote = Vote(poll=poll, voter=user, choices=values)
            results[i] = latest[user.pk] = vote
        if latest:
            # One statement, safe against a twin of these votes racing it: insert each
            # vote or, when the member has one, change its choices (votes of the poll
            # do not wait for each other).
            Vote.objects.bulk_create(
                list(latest.values()),
                update_conflicts=True,
                unique_fields=["poll", "voter"],
                update_fields=["choices", "cast_at"],
            )
            events.room_dirty(workshop_id=fresh.pk, what="poll", poll_id=poll.pk)
    return [r for r in results if r is not None]
