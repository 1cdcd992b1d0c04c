"""Reads for workshop scheduling: lists with filters, one workshop as its viewer sees it,
a member's registrations and calendar, and the attendance report."""

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from community.models import Profile, Skill, User
from workshops.models import (
    Attendance,
    CalendarFeed,
    Registration,
    RegistrationStatus,
    Workshop,
    WorkshopStatus,
)

Viewer = User | AnonymousUser
UPCOMING, PAST = "upcoming", "past"


@dataclass(frozen=True)
class WorkshopFilters:
    """What the workshop lists can be narrowed by; empty values mean "any". Dates are
    days in ``time_zone`` (the viewer's)."""

    skill: str = ""  # skill slug
    language: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    time_zone: str = "UTC"


def _day_start(day: dt.date, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=zone).astimezone(dt.UTC)


def _with_details(qs: QuerySet[Workshop], viewer: Viewer | None = None) -> QuerySet[Workshop]:
    """Skills, facilitators (with profiles), seat counts and, for a signed-in viewer, their
    registration status, in a constant number of queries."""
    qs = qs.prefetch_related(
        Prefetch("skills", queryset=Skill.objects.order_by("name")),
        Prefetch(
            "facilitators",
            queryset=User.objects.select_related("profile").order_by("username"),
        ),
    ).annotate(
        registered_count=Count(
            "registrations", filter=Q(registrations__status=RegistrationStatus.REGISTERED)
        ),
        waitlist_count=Count(
            "registrations", filter=Q(registrations__status=RegistrationStatus.WAITLISTED)
        ),
    )
    if viewer is not None and viewer.is_authenticated:
        qs = qs.annotate(
            my_status=Subquery(
                Registration.objects.filter(workshop=OuterRef("pk"), user_id=viewer.pk).values(
                    "status"
                )[:1]
            )
        )
    return qs


def workshop_list(
    *,
    when: str = UPCOMING,
    filters: WorkshopFilters | None = None,
    viewer: Viewer | None = None,
    now: dt.datetime | None = None,
) -> QuerySet[Workshop]:
    """Upcoming (not ended, soonest first) or past (ended, latest first) workshops;
    cancelled ones are in neither list."""
    filters = filters or WorkshopFilters()
    now = now or timezone.now()
    qs = Workshop.objects.exclude(status=WorkshopStatus.CANCELLED)
    ended = Q(status=WorkshopStatus.ENDED) | Q(ends_at__lte=now)
    qs = qs.filter(ended) if when == PAST else qs.exclude(ended)
    if filters.skill:
        qs = qs.filter(pk__in=Workshop.skills.through.objects.filter(
            skill__slug=filters.skill).values("workshop_id"))  # fmt: skip
    if filters.language:
        qs = qs.filter(language=filters.language)
    zone = zoneinfo.ZoneInfo(filters.time_zone)
    if filters.date_from:
        qs = qs.filter(starts_at__gte=_day_start(filters.date_from, zone))
    if filters.date_to:
        qs = qs.filter(starts_at__lt=_day_start(filters.date_to + dt.timedelta(days=1), zone))
    order = ["-starts_at", "-id"] if when == PAST else ["starts_at", "id"]
    return _with_details(qs, viewer).order_by(*order)


def workshop_get(*, pk: int, viewer: Viewer | None = None) -> Workshop:
    """One workshop with its details (raises Workshop.DoesNotExist). Every workshop,
    cancelled ones too, is visible to everyone."""
    return _with_details(Workshop.objects.all(), viewer).get(pk=pk)


@dataclass
class WorkshopView:
    """A workshop as one viewer sees it."""

    workshop: Workshop
    is_past: bool
    seats_left: int | None  # None: an open workshop (no registration required)
    registration: Registration | None = None  # the viewer's active registration
    waitlist_position: int | None = None  # 1 = next in line
    is_facilitator: bool = False
    can_edit: bool = False
    can_register: bool = False
    can_enter_room: bool = False
    facilitators: list[User] = field(default_factory=list)


def workshop_view(
    *, workshop: Workshop, viewer: Viewer, now: dt.datetime | None = None
) -> WorkshopView:
    """Seats left, the viewer's registration and waitlist position, and what they may
    do. ``workshop`` comes from ``workshop_get`` (its counts are annotated)."""
    now = now or timezone.now()
    facilitators = list(workshop.facilitators.all())
    past = workshop.status == WorkshopStatus.ENDED or workshop.ends_at <= now
    cancelled = workshop.status == WorkshopStatus.CANCELLED
    registered = getattr(workshop, "registered_count", None)
    if registered is None:
        registered = workshop.registrations.filter(status=RegistrationStatus.REGISTERED).count()
    seats_left = max(workshop.capacity - registered, 0) if workshop.registration_required else None
    view = WorkshopView(
        workshop=workshop, is_past=past, seats_left=seats_left, facilitators=facilitators
    )
    if not viewer.is_authenticated:
        return view
    view.is_facilitator = any(u.pk == viewer.pk for u in facilitators)
    view.can_edit = view.is_facilitator or bool(viewer.is_staff)
    registration = (
        Registration.objects.filter(workshop=workshop, user_id=viewer.pk)
        .exclude(status=RegistrationStatus.CANCELLED)
        .first()
    )
    view.registration = registration
    if registration is not None and registration.status == RegistrationStatus.WAITLISTED:
        view.waitlist_position = (
            Registration.objects.filter(workshop=workshop, status=RegistrationStatus.WAITLISTED)
            .filter(
                Q(created_at__lt=registration.created_at)
                | Q(created_at=registration.created_at, id__lt=registration.pk)
            )
            .count()
            + 1
        )
    view.can_register = not (past or cancelled or view.is_facilitator or registration)
    removed = registration is not None and registration.removed_at is not None
    admitted = view.is_facilitator or (
        not removed
        and (
            not workshop.registration_required
            or (registration is not None and registration.status == RegistrationStatus.REGISTERED)
        )
    )
    view.can_enter_room = not cancelled and admitted
    return view


def registrations_for_user(*, user: User, include_past: bool = False) -> QuerySet[Registration]:
    """A member's active registrations (registered or waitlisted), soonest first."""
    qs = Registration.objects.filter(
        user=user,
        status__in=[RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED],
    )
    if not include_past:
        qs = qs.filter(workshop__ends_at__gt=timezone.now()).exclude(
            workshop__status=WorkshopStatus.ENDED
        )
    return qs.select_related("workshop").order_by("workshop__starts_at", "id")


def facilitated_upcoming(*, user: User) -> QuerySet[Workshop]:
    return (
        Workshop.objects.filter(facilitators=user, ends_at__gt=timezone.now())
        .exclude(status__in=[WorkshopStatus.ENDED, WorkshopStatus.CANCELLED])
        .order_by("starts_at", "id")
    )


def calendar_feed_user(*, token: str) -> User:
    """The member whose private feed this is (raises CalendarFeed.DoesNotExist)."""
    if not token or len(token) > 64:
        raise CalendarFeed.DoesNotExist
    return CalendarFeed.objects.select_related("user").get(token=token, user__is_active=True).user


def calendar_workshops(*, user: User, now: dt.datetime | None = None) -> list[Workshop]:
    """What a member's calendar feed holds: the upcoming workshops they are registered
    for (cancelled ones too, so calendars drop them) or facilitate."""
    now = now or timezone.now()
    registered = Registration.objects.filter(
        user=user, status=RegistrationStatus.REGISTERED
    ).values("workshop_id")
    return list(
        Workshop.objects.filter(Q(pk__in=registered) | Q(facilitators=user), ends_at__gt=now)
        .exclude(status=WorkshopStatus.ENDED)
        .distinct()
        .prefetch_related(Prefetch("facilitators", queryset=User.objects.select_related("profile")))
        .order_by("starts_at", "id")
    )


# --- attendance ---------------------------------------------------------------------------
@dataclass
class AttendanceRow:
    user: User
    name: str
    is_facilitator: bool
    registration_status: str  # "" when they attended without a registration
    first_join: dt.datetime | None
    last_leave: dt.datetime | None  # None while still in the room (or never there)
    minutes: int
    stays: int


def _merged_seconds(intervals: list[tuple[dt.datetime, dt.datetime]]) -> float:
    """Total length of the union of the intervals: overlapping stays (two tabs, a
    reconnect) count once."""
    total = 0.0
    current_start: dt.datetime | None = None
    current_end: dt.datetime | None = None
    for start, end in sorted(intervals):
        if current_end is None or start > current_end:
            if current_start is not None and current_end is not None:
                total += (current_end - current_start).total_seconds()
            current_start, current_end = start, end
        else:
            current_end = max(current_end, end)
    if current_start is not None and current_end is not None:
        total += (current_end - current_start).total_seconds()
    return total


def _display_name(user: User) -> str:
    try:
        profile: Profile = user.profile
    except Profile.DoesNotExist:
        return user.username
    return profile.display_name or user.username


def attendance_report(*, workshop: Workshop, now: dt.datetime | None = None) -> list[AttendanceRow]:
    """Everyone who was in the room or is registered: first join, last leave and the
    minutes they were present (overlapping stays counted once). A stay still open counts
    up to now while the session is live, else up to the session's (or schedule's) end.
    Facilitators first, then by name."""
    now = now or timezone.now()
    if workshop.status == WorkshopStatus.LIVE:
        open_until = now
    else:
        open_until = min(now, workshop.live_ended_at or workshop.ends_at)
    stays: dict[int, list[Attendance]] = {}
    for stay in Attendance.objects.filter(workshop=workshop).order_by("joined_at", "id"):
        stays.setdefault(stay.user_id, []).append(stay)
    registrations = {
        r.user_id: r.status
        for r in Registration.objects.filter(
            workshop=workshop,
            status__in=[RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED],
        )
    }
    facilitator_ids = set(workshop.facilitators.values_list("pk", flat=True))
    ids = set(stays) | {uid for uid, s in registrations.items() if s == "registered"}
    users = User.objects.filter(pk__in=ids).select_related("profile").in_bulk()
    rows = []
    for user_id, user in users.items():
        own = stays.get(user_id, [])
        intervals = []
        for stay in own:
            end = stay.left_at or max(open_until, stay.joined_at)
            intervals.append((stay.joined_at, max(end, stay.joined_at)))
        still_in = any(stay.left_at is None for stay in own)
        rows.append(
            AttendanceRow(
                user=user,
                name=_display_name(user),
                is_facilitator=user_id in facilitator_ids,
                registration_status=registrations.get(user_id, ""),
                first_join=own[0].joined_at if own else None,
                last_leave=(
                    None
                    if not own or still_in
                    else max(stay.left_at for stay in own if stay.left_at is not None)
                ),
                minutes=round(_merged_seconds(intervals) / 60),
                stays=len(own),
            )
        )
    rows.sort(key=lambda r: (not r.is_facilitator, r.name.casefold(), r.user.pk))
    return rows
