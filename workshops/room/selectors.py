"""Reads of the live room: who may enter, the snapshot a socket starts from, the stream
since a sequence number, presence, polls and their tallies.

Every function is synchronous and keyword-only; consumers call them through
``database_sync_to_async``. Query counts do not grow with the number of messages, polls,
votes or people in the room.
"""

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Prefetch, Subquery

from community import compiled
from community.models import User
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

CHAT_BACKLOG = 50  # messages in a snapshot
PRESENCE_MEMBERS = 200  # members listed by name in a presence snapshot
EVENTS_BACKLOG = 500  # events a reconnecting client may catch up on before it must reload
RATINGS = ("1", "2", "3", "4", "5")


@dataclass(frozen=True)
class RoomAccess:
    workshop: Workshop
    is_facilitator: bool
    registration: Registration | None


# --- shapes -----------------------------------------------------------------------------
def iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def person(user_id: int, username: str, display_name: str | None) -> dict[str, Any]:
    return {"id": user_id, "username": username, "name": display_name or username}


def user_person(user: User) -> dict[str, Any]:
    profile = getattr(user, "profile", None)
    return person(user.pk, user.username, profile.display_name if profile is not None else None)


def chat_message_data(message: ChatMessage) -> dict[str, Any]:
    """A message as the data of a "chat.message" event (also the snapshot's chat items).
    Load it with ``select_related("author__profile")``."""
    return {
        "id": message.pk,
        "seq": message.seq,
        "client_id": message.client_id,
        "author": user_person(message.author),
        "html": message.body_html,
        "created_at": iso(message.created_at),
    }


def workshop_state(workshop: Workshop) -> dict[str, Any]:
    return {
        "id": workshop.pk,
        "title": workshop.title,
        "status": workshop.status,
        "chat_locked": workshop.chat_locked,
        "slow_mode_seconds": workshop.slow_mode_seconds,
        "live_started_at": iso(workshop.live_started_at),
        "live_ended_at": iso(workshop.live_ended_at),
    }


# --- access -----------------------------------------------------------------------------
REGISTRATION_FIELDS = ("id", "status", "removed_at", "muted_at")


def _is_facilitator(workshop: Workshop, user: Any) -> bool:
    return workshop.facilitators.filter(pk=user.pk).exists()


def with_access(workshops: Any, user: Any) -> Any:
    """``workshops`` annotated with what ``access_check`` needs to know about ``user``
    (facilitator or not, their registration's id, status, removal and mute), so that
    loading (or locking) the workshop and checking access is one query."""
    user_id: int = getattr(user, "pk", None) or 0  # 0: nobody (an anonymous user)
    facilitating = Workshop.facilitators.through.objects.filter(
        workshop_id=OuterRef("pk"), user_id=user_id
    )
    registration = Registration.objects.filter(workshop_id=OuterRef("pk"), user_id=user_id)
    return workshops.annotate(
        viewer_is_facilitator=Exists(facilitating),
        **{
            f"viewer_registration_{field}": Subquery(registration.values(field)[:1])
            for field in REGISTRATION_FIELDS
        },
    )


def _with_access_query(*, workshop: int, user: int, lock: bool) -> Any:
    rows = with_access(Workshop.objects.all(), _Uid(user))
    if lock:
        rows = rows.select_for_update(of=("self",))
    return rows.filter(pk=workshop)


class _Uid:
    def __init__(self, pk: int) -> None:
        self.pk = pk


def workshop_with_access(workshop_id: int, user: Any, *, lock: bool = False) -> Workshop:
    """``with_access(Workshop.objects...).get(pk=workshop_id)`` (with ``lock``: for
    update, of the workshop row only), compiled to SQL once (community/compiled.py):
    building this query is several times dearer than running it, and every room action
    loads its workshop this way. Raises Workshop.DoesNotExist."""
    values = {"workshop": int(workshop_id), "user": int(getattr(user, "pk", None) or 0)}
    build = functools.partial(_with_access_query, lock=lock)
    found = compiled.run(("workshops.with_access", lock), build, values)
    if not found:
        raise Workshop.DoesNotExist("Workshop matching query does not exist.")
    return found[0]


def _viewer(workshop: Workshop, user: Any) -> tuple[bool, Registration | None]:
    """Facilitator or not, and the registration (its access fields loaded; the others
    load on use), from ``with_access`` annotations when the workshop has them."""
    if not hasattr(workshop, "viewer_is_facilitator"):
        workshop = workshop_with_access(workshop.pk, user)
    values = [getattr(workshop, f"viewer_registration_{field}") for field in REGISTRATION_FIELDS]
    registration = None
    if values[0] is not None:
        loaded = {"workshop_id": workshop.pk, "user_id": user.pk}
        loaded.update(zip(REGISTRATION_FIELDS, values, strict=True))
        fields = [f.attname for f in Registration._meta.concrete_fields if f.attname in loaded]
        registration = Registration.from_db(
            workshop._state.db, fields, [loaded[name] for name in fields]
        )
    return bool(getattr(workshop, "viewer_is_facilitator")), registration  # noqa: B009


def access_check(*, workshop: Workshop, user: Any) -> RoomAccess:
    """``room_access`` for a workshop already loaded (services call it on the locked row;
    loaded through ``with_access``, the check needs no query of its own)."""
    if user is None or not user.is_authenticated or not user.is_active:
        raise PermissionDenied("not signed in")
    if workshop.status == WorkshopStatus.CANCELLED:
        raise PermissionDenied("the workshop is cancelled")
    return _checked(workshop, *_viewer(workshop, user))


def _checked(
    workshop: Workshop, is_facilitator: bool, registration: Registration | None
) -> RoomAccess:
    if not is_facilitator:
        if registration is not None and registration.removed_at is not None:
            raise PermissionDenied("removed from the room")
        registered = (
            registration is not None and registration.status == RegistrationStatus.REGISTERED
        )
        if workshop.registration_required and not registered:
            raise PermissionDenied("not registered")
    return RoomAccess(workshop=workshop, is_facilitator=is_facilitator, registration=registration)


def access_check_many(
    *, workshop: Workshop, users: Sequence[Any]
) -> list[RoomAccess | PermissionDenied]:
    """``access_check`` for several members of one loaded workshop with two queries
    whatever their number (a batch of votes): each gets its access or the refusal."""
    results: list[RoomAccess | PermissionDenied | None] = [None] * len(users)
    ids: set[int] = set()
    for i, user in enumerate(users):
        if user is None or not user.is_authenticated or not user.is_active:
            results[i] = PermissionDenied("not signed in")
        elif workshop.status == WorkshopStatus.CANCELLED:
            results[i] = PermissionDenied("the workshop is cancelled")
        else:
            ids.add(user.pk)
    if ids:
        facilitating = set(
            Workshop.facilitators.through.objects.filter(
                workshop_id=workshop.pk, user_id__in=ids
            ).values_list("user_id", flat=True)
        )
        registrations = {
            r.user_id: r
            for r in Registration.objects.filter(workshop_id=workshop.pk, user_id__in=ids).only(
                "user_id", "workshop_id", *REGISTRATION_FIELDS
            )
        }
        for i, user in enumerate(users):
            if results[i] is None:
                try:
                    results[i] = _checked(
                        workshop, user.pk in facilitating, registrations.get(user.pk)
                    )
                except PermissionDenied as exc:
                    results[i] = exc
    return [r for r in results if r is not None]


def room_access(*, workshop_id: int, user: Any) -> RoomAccess:
    """May ``user`` be in the room? Raises Workshop.DoesNotExist for an unknown workshop
    and PermissionDenied for a member who may not enter: not a facilitator and either
    removed from the room or, when registration is required, not registered. Nobody
    enters a cancelled workshop; an open workshop admits every signed-in member."""
    return access_check(workshop=workshop_with_access(workshop_id, user), user=user)


# --- presence ----------------------------------------------------------------------------
def presence(*, workshop_id: int) -> dict[str, Any]:
    """Who is in the room now (an open attendance), facilitators apart; ``members`` lists
    at most PRESENCE_MEMBERS of the others, by name."""
    facilitator_ids = set(
        Workshop.facilitators.through.objects.filter(workshop_id=workshop_id).values_list(
            "user_id", flat=True
        )
    )
    return _presence(workshop_id, facilitator_ids)


def _presence(workshop_id: int, facilitator_ids: set[int]) -> dict[str, Any]:
    rows = (
        Attendance.objects.filter(workshop_id=workshop_id, left_at__isnull=True)
        .values_list("user_id", "user__username", "user__profile__display_name")
        .order_by("user__profile__display_name", "user__username", "user_id")
        .distinct()
    )
    seen: set[int] = set()
    facilitators: list[dict[str, Any]] = []
    members: list[dict[str, Any]] = []
    for user_id, username, display_name in rows:
        if user_id in seen:
            continue
        seen.add(user_id)
        if user_id in facilitator_ids:
            facilitators.append(person(user_id, username, display_name))
        elif len(members) < PRESENCE_MEMBERS:
            members.append(person(user_id, username, display_name))
    return {"count": len(seen), "facilitators": facilitators, "members": members}


# --- polls --------------------------------------------------------------------------------
def poll_tally_visible(*, poll: Poll, is_facilitator: bool) -> bool:
    """Facilitators always see a tally; others per the poll's results setting: "live"
    once open, "on_close" once closed, "hidden" once revealed. Drafts have no tally."""
    if is_facilitator:
        return True
    if poll.status == PollStatus.DRAFT:
        return False
    if poll.revealed:
        return True
    if poll.results == ResultsVisibility.LIVE:
        return True
    if poll.results == ResultsVisibility.ON_CLOSE:
        return poll.status == PollStatus.CLOSED
    return False


def _tally(poll: Poll, option_ids: Sequence[int], votes: Iterable[list[Any]]) -> dict[str, Any]:
    return _tally_counted(poll, option_ids, ((choices, 1) for choices in votes))


def _tally_counted(
    poll: Poll, option_ids: Sequence[int], groups: Iterable[tuple[list[Any], int]]
) -> dict[str, Any]:
    """The tally from ``(choices, how many votes made exactly them)`` pairs."""
    total = 0
    if poll.kind == PollKind.RATING:
        ratings = dict.fromkeys(RATINGS, 0)
        points = 0
        for choices, n in groups:
            total += n
            rating = choices[0] if choices else None
            if str(rating) in ratings:
                ratings[str(rating)] += n
                points += int(str(rating)) * n
        counted = sum(ratings.values())
        counts: dict[str, Any] = {
            **ratings,
            "mean": round(points / counted, 2) if counted else None,
        }
    else:
        counts = {str(option_id): 0 for option_id in option_ids}
        for choices, n in groups:
            total += n
            for choice in choices:
                if str(choice) in counts:
                    counts[str(choice)] += n
    return {"poll_id": poll.pk, "total_votes": total, "counts": counts}


def _option_ids(poll: Poll) -> list[int]:
    cached = getattr(poll, "_prefetched_objects_cache", {}).get("options")
    if cached is not None:
        return [option.pk for option in cached]
    return list(PollOption.objects.filter(poll=poll).values_list("id", flat=True))


def poll_tally(*, poll: Poll) -> dict[str, Any]:
    """The count of votes per option (keys are option ids as strings, as in JSON), or
    for a rating poll per rating "1".."5" with the "mean" (None without votes)."""
    # Grouped in the database: a poll of 1,000 votes has a few distinct choices, and the
    # hub recomputes a live tally up to four times a second.
    groups = (
        Vote.objects.filter(poll=poll)
        .order_by()
        .values_list("choices")
        .annotate(n=Count("id"))
        .values_list("choices", "n")
    )
    return _tally_counted(poll, _option_ids(poll), list(groups))


def _options(poll: Poll) -> list[dict[str, Any]]:
    return [{"id": option.pk, "label": option.label} for option in poll.options.all()]


def poll_public(poll: Poll, *, tally: dict[str, Any] | None = None) -> dict[str, Any]:
    """A poll as every participant may see it (the data of poll events); ``tally`` is
    added when given. Load the poll with its options prefetched."""
    data: dict[str, Any] = {
        "id": poll.pk,
        "question": poll.question,
        "kind": poll.kind,
        "anonymous": poll.anonymous,
        "results": poll.results,
        "status": poll.status,
        "revealed": poll.revealed,
        "options": _options(poll),
    }
    if tally is not None:
        data["tally"] = tally
    return data


def polls_with_options() -> Any:
    return Poll.objects.prefetch_related(
        Prefetch("options", queryset=PollOption.objects.order_by("position"))
    )


def _polls_for_user(polls: Sequence[Poll], user: Any, is_facilitator: bool) -> list[dict[str, Any]]:
    """Shape several polls for one viewer with one query for all their votes."""
    votes_by_poll: dict[int, list[tuple[int, str, list[Any]]]] = defaultdict(list)
    rows = Vote.objects.filter(poll__in=[poll.pk for poll in polls]).values_list(
        "poll_id", "voter_id", "voter__username", "choices"
    )
    for poll_id, voter_id, username, choices in rows.order_by("voter__username"):
        votes_by_poll[poll_id].append((voter_id, username, choices))
    shaped = []
    for poll in polls:
        votes = votes_by_poll.get(poll.pk, [])
        visible = poll_tally_visible(poll=poll, is_facilitator=is_facilitator)
        data = poll_public(poll)
        data["tally_visible"] = visible
        if visible:
            option_ids = [option.pk for option in poll.options.all()]
            data["tally"] = _tally(poll, option_ids, [choices for _v, _u, choices in votes])
        data["your_vote"] = next(
            (choices for voter_id, _u, choices in votes if voter_id == user.pk), None
        )
        if is_facilitator and not poll.anonymous:
            voters: dict[str, list[str]] = (
                {rating: [] for rating in RATINGS}
                if poll.kind == PollKind.RATING
                else {str(option.pk): [] for option in poll.options.all()}
            )
            for _voter_id, username, choices in votes:
                for choice in choices:
                    if str(choice) in voters:
                        voters[str(choice)].append(username)
            data["voters"] = voters
        shaped.append(data)
    return shaped


def poll_for_user(*, poll: Poll, user: Any) -> dict[str, Any]:
    """A poll as ``user`` sees it: the public fields, "tally_visible", "tally" when
    visible to them, "your_vote" (their choices or None) and, for facilitators of a poll
    that is not anonymous, "voters": {option id (or rating): [usernames]}."""
    poll = polls_with_options().select_related("workshop").get(pk=poll.pk)
    return _polls_for_user([poll], user, _is_facilitator(poll.workshop, user))[0]


def polls_for_user(*, workshop: Workshop, user: Any, is_facilitator: bool) -> list[dict[str, Any]]:
    """The room's polls ``user`` may see (facilitators also see drafts), oldest first."""
    polls = polls_with_options().filter(workshop=workshop).order_by("created_at", "id")
    if not is_facilitator:
        polls = polls.exclude(status=PollStatus.DRAFT)
    return _polls_for_user(list(polls), user, is_facilitator)


def poll_get(*, workshop: Workshop, poll_id: int) -> Poll:
    """A poll of this room (Poll.DoesNotExist for another room's)."""
    return polls_with_options().get(pk=poll_id, workshop=workshop)


# --- chat and the stream ------------------------------------------------------------------
def chat_recent(*, workshop: Workshop, limit: int = CHAT_BACKLOG) -> list[dict[str, Any]]:
    """The last ``limit`` messages not deleted, oldest first."""
    rows = (
        ChatMessage.objects.filter(workshop=workshop, deleted_at__isnull=True)
        .select_related("author__profile")
        .order_by("-seq")[:limit]
    )
    return [chat_message_data(message) for message in reversed(list(rows))]


def room_events_page(
    *, workshop: Workshop, after_seq: int, limit: int
) -> tuple[list[dict[str, Any]], bool, int]:
    """Up to ``limit`` stream events after ``after_seq``, in order; whether more follow;
    and the room's last sequence number."""
    last_seq = Workshop.objects.filter(pk=workshop.pk).values_list("last_seq", flat=True).get()
    rows = RoomEvent.objects.filter(
        workshop_id=workshop.pk, seq__gt=max(after_seq, 0), seq__lte=last_seq
    ).order_by("seq")[:limit]
    events = [{"type": type_, "seq": seq, "data": data} for seq, type_, data in
              rows.values_list("seq", "type", "data")]  # fmt: skip
    has_more = bool(events) and events[-1]["seq"] < last_seq
    return events, has_more, last_seq


def room_events_since(
    *, workshop: Workshop, after_seq: int, limit: int = EVENTS_BACKLOG
) -> list[dict[str, Any]] | None:
    """The stream events with seq > ``after_seq``, in order, as protocol messages
    {"type", "seq", "data"}; None when the client must reload the snapshot instead:
    more than ``limit`` events are missing, or ``after_seq`` is not a sequence number
    this room has reached."""
    last_seq = Workshop.objects.filter(pk=workshop.pk).values_list("last_seq", flat=True).get()
    if after_seq < 0 or after_seq > last_seq or last_seq - after_seq > limit:
        return None
    if after_seq == last_seq:
        return []
    rows = RoomEvent.objects.filter(
        workshop_id=workshop.pk, seq__gt=after_seq, seq__lte=last_seq
    ).order_by("seq")
    return [
        {"type": type_, "seq": seq, "data": data}
        for seq, type_, data in rows.values_list("seq", "type", "data")
    ]


# --- the snapshot -------------------------------------------------------------------------
def room_snapshot(*, workshop: Workshop, user: Any) -> dict[str, Any]:
    """Everything a socket (or the room page) starts from; see the module docstring of
    realtime's room consumer for how the stream continues from "seq"."""
    workshop = Workshop.objects.get(pk=workshop.pk)  # fresh state and last_seq
    facilitator_ids = set(workshop.facilitators.values_list("id", flat=True))
    is_facilitator = user.pk in facilitator_ids
    muted = (
        Registration.objects.filter(
            workshop=workshop, user_id=user.pk, muted_at__isnull=False
        ).exists()
        if not is_facilitator
        else False
    )
    return {
        "workshop": workshop_state(workshop),
        "seq": workshop.last_seq,
        "presence": _presence(workshop.pk, facilitator_ids),
        "chat": chat_recent(workshop=workshop),
        "polls": polls_for_user(workshop=workshop, user=user, is_facilitator=is_facilitator),
        "you": {"id": user.pk, "is_facilitator": is_facilitator, "muted": muted},
    }


def room_muted_user_ids(*, workshop: Workshop) -> set[int]:
    """The members a facilitator has muted in this room."""
    return set(
        Registration.objects.filter(workshop=workshop, muted_at__isnull=False).values_list(
            "user_id", flat=True
        )
    )
