"""Every change to workshop scheduling: workshops, registrations and the waitlist,
calendar feeds and reminder e-mails. (The live room's changes are in workshops.room.)

Times: a facilitator enters a workshop's start and end as wall-clock times in their time
zone (their profile's zone, or one they choose); they are stored in UTC.
"""

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from community.languages import LANGUAGE_CODES, language_name
from community.markup import render_markdown
from community.models import Profile, Skill, User, time_zone_names
from community.notifications.services import notification_send
from workshops.models import (
    CalendarFeed,
    Registration,
    RegistrationStatus,
    Workshop,
    WorkshopStatus,
)

MAX_SKILLS = 10
MAX_FACILITATORS = 8
MAX_CAPACITY = 10_000
MAX_DURATION = dt.timedelta(hours=12)
REMINDER_WINDOWS = {"24h": dt.timedelta(hours=24), "1h": dt.timedelta(hours=1)}
ACTIVE_STATUSES = (RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED)
WORKSHOP_FIELDS = (
    "title",
    "description",
    "skills",
    "facilitators",
    "starts_at",
    "ends_at",
    "time_zone",
    "language",
    "capacity",
    "registration_required",
)


# --- who may do what ----------------------------------------------------------------------
def can_create_workshops(user: User | AnonymousUser) -> bool:
    """Staff and members with the facilitator role create workshops."""
    if not user.is_authenticated:
        return False
    return bool(
        user.is_staff or Profile.objects.filter(user_id=user.pk, is_facilitator=True).exists()
    )


def is_facilitator(user: User | AnonymousUser, workshop: Workshop) -> bool:
    if not user.is_authenticated:
        return False
    return workshop.facilitators.filter(pk=user.pk).exists()


def can_edit_workshop(user: User | AnonymousUser, workshop: Workshop) -> bool:
    """The workshop's facilitators and staff edit it, cancel it and see its attendance."""
    return bool(user.is_authenticated and (user.is_staff or is_facilitator(user, workshop)))


def is_past(workshop: Workshop, now: dt.datetime | None = None) -> bool:
    return workshop.status == WorkshopStatus.ENDED or workshop.ends_at <= (now or timezone.now())


# --- input --------------------------------------------------------------------------------
def profile_time_zone(user: User) -> str:
    zone = Profile.objects.filter(user_id=user.pk).values_list("time_zone", flat=True).first()
    return zone if zone in time_zone_names() else "UTC"


def _zone(name: Any) -> zoneinfo.ZoneInfo:
    if not isinstance(name, str) or name not in time_zone_names():
        raise ValidationError({"time_zone": _("“%s” is not a known time zone.") % name})
    return zoneinfo.ZoneInfo(name)


def to_utc(value: Any, zone: zoneinfo.ZoneInfo, field: str) -> dt.datetime:
    """A wall-clock time in ``zone`` (or an aware datetime) as an aware UTC datetime."""
    if not isinstance(value, dt.datetime):
        raise ValidationError({field: _("Give a date and time.")})
    if timezone.is_naive(value):
        # fold=0: an ambiguous wall-clock time (the hour repeated when clocks go back) is
        # the first one; a time skipped when clocks go forward comes out an hour later.
        value = value.replace(tzinfo=zone)
    return value.astimezone(dt.UTC).replace(second=0, microsecond=0)


def _skills(slugs: Iterable[str]) -> list[Skill]:
    slugs = list(dict.fromkeys(slugs))
    if len(slugs) > MAX_SKILLS:
        raise ValidationError({"skills": _("At most %d skills.") % MAX_SKILLS})
    found = {s.slug: s for s in Skill.objects.filter(slug__in=slugs, is_active=True)}
    unknown = [slug for slug in slugs if slug not in found]
    if unknown:
        raise ValidationError({"skills": _("Unknown skill: %s") % ", ".join(unknown)})
    return [found[slug] for slug in slugs]


def _facilitators(actor: User, usernames: Iterable[str]) -> list[User]:
    """The actor plus the members named (case-insensitively), in that order."""
    if isinstance(usernames, str):
        usernames = usernames.replace(",", " ").split()
    names = [n.strip().lstrip("@") for n in usernames if n and n.strip()]
    people: dict[int, User] = {actor.pk: actor}
    unknown = []
    for name in dict.fromkeys(n.lower() for n in names):
        user = User.objects.filter(username__iexact=name, is_active=True).first()
        if user is None:
            unknown.append(name)
        else:
            people.setdefault(user.pk, user)
    if unknown:
        raise ValidationError({"facilitators": _("No member is called: %s") % ", ".join(unknown)})
    if len(people) > MAX_FACILITATORS:
        raise ValidationError({"facilitators": _("At most %d facilitators.") % MAX_FACILITATORS})
    return list(people.values())


def _clean(workshop: Workshop, data: Mapping[str, Any], *, creating: bool) -> None:
    """Apply and validate the plain fields of ``data`` on ``workshop`` (unsaved)."""
    if "title" in data:
        workshop.title = " ".join(str(data["title"] or "").split())
        if not workshop.title:
            raise ValidationError({"title": _("Give the workshop a title.")})
        if len(workshop.title) > 160:
            raise ValidationError({"title": _("Titles are limited to 160 characters.")})
    if "description" in data:
        workshop.description = str(data["description"] or "").strip()
        if len(workshop.description) > 10000:
            raise ValidationError(
                {"description": _("Descriptions are limited to 10,000 characters.")}
            )
        workshop.description_html = render_markdown(workshop.description)
    if "language" in data:
        if data["language"] not in LANGUAGE_CODES:
            raise ValidationError({"language": _("Unknown language: %s") % data["language"]})
        workshop.language = data["language"]
    if "capacity" in data:
        capacity = data["capacity"]
        if isinstance(capacity, bool) or not isinstance(capacity, int):
            raise ValidationError({"capacity": _("Give the number of seats.")})
        if not 1 <= capacity <= MAX_CAPACITY:
            raise ValidationError(
                {"capacity": _("Capacity runs from 1 to %d seats.") % MAX_CAPACITY}
            )
        workshop.capacity = capacity
    if "registration_required" in data:
        workshop.registration_required = bool(data["registration_required"])

    old_start = workshop.starts_at if not creating else None
    zone = _zone(data.get("time_zone", workshop.time_zone))
    workshop.time_zone = str(zone.key)
    if "starts_at" in data:
        workshop.starts_at = to_utc(data["starts_at"], zone, "starts_at")
    if "ends_at" in data:
        workshop.ends_at = to_utc(data["ends_at"], zone, "ends_at")
    if workshop.starts_at is None:
        raise ValidationError({"starts_at": _("Give the start.")})
    if workshop.ends_at is None:
        raise ValidationError({"ends_at": _("Give the end.")})
    if workshop.ends_at <= workshop.starts_at:
        raise ValidationError({"ends_at": _("The workshop must end after it starts.")})
    if workshop.ends_at - workshop.starts_at > MAX_DURATION:
        raise ValidationError({"ends_at": _("A workshop lasts at most 12 hours.")})
    if (creating or workshop.starts_at != old_start) and workshop.starts_at <= timezone.now():
        raise ValidationError({"starts_at": _("The start must be in the future.")})


# --- workshops ----------------------------------------------------------------------------
def _url(workshop: Workshop) -> str:
    return reverse("workshops:detail", kwargs={"pk": workshop.pk})


@transaction.atomic
def workshop_create(
    *,
    actor: User,
    title: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    time_zone: str | None = None,
    description: str = "",
    skills: Iterable[str] = (),
    facilitators: Iterable[str] = (),
    language: str = "en",
    capacity: int = 100,
    registration_required: bool = True,
) -> Workshop:
    """Schedule a workshop (staff and facilitators). ``starts_at``/``ends_at`` are
    wall-clock times in ``time_zone`` (default: the actor's profile zone) or aware
    datetimes. The actor facilitates it, with the members named in ``facilitators``."""
    if not can_create_workshops(actor):
        raise PermissionDenied(_("Only facilitators and staff schedule workshops."))
    workshop = Workshop(created_by=actor, time_zone=time_zone or profile_time_zone(actor))
    _clean(
        workshop,
        {
            "title": title,
            "description": description,
            "language": language,
            "capacity": capacity,
            "registration_required": registration_required,
            "time_zone": workshop.time_zone,
            "starts_at": starts_at,
            "ends_at": ends_at,
        },
        creating=True,
    )
    skill_rows = _skills(skills)
    people = _facilitators(actor, facilitators)
    workshop.save()
    workshop.skills.set(skill_rows)
    workshop.facilitators.set(people)
    return workshop


def _lock(workshop: Workshop) -> Workshop:
    return Workshop.objects.select_for_update().get(pk=workshop.pk)


@transaction.atomic
def workshop_update(*, actor: User, workshop: Workshop, data: Mapping[str, Any]) -> Workshop:
    """Change a workshop (its facilitators and staff). ``data`` holds any of the fields
    ``workshop_create`` takes; ``facilitators`` replaces the co-facilitators (the actor
    stays one, unless staff). More seats promote waitlisted members at once."""
    workshop = _lock(workshop)
    if not can_edit_workshop(actor, workshop):
        raise PermissionDenied(_("Only this workshop's facilitators can change it."))
    if workshop.status == WorkshopStatus.CANCELLED or is_past(workshop):
        raise ValidationError({"status": _("A cancelled or past workshop cannot be changed.")})
    unknown = sorted(set(data) - set(WORKSHOP_FIELDS))
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in unknown})
    _clean(workshop, data, creating=False)
    registered = workshop.registrations.filter(status=RegistrationStatus.REGISTERED).count()
    if workshop.registration_required and workshop.capacity < registered:
        raise ValidationError(
            {"capacity": _("%d members are registered: the capacity cannot be lower.") % registered}
        )
    skill_rows = _skills(data["skills"]) if "skills" in data else None
    people = None
    if "facilitators" in data:
        current = list(workshop.facilitators.all())
        is_one = any(u.pk == actor.pk for u in current)
        if is_one or not actor.is_staff:
            people = _facilitators(actor, data["facilitators"])
        else:  # staff who do not facilitate set the list without joining it
            named = _facilitators(actor, data["facilitators"])[1:]
            if not named:
                raise ValidationError({"facilitators": _("Name at least one facilitator.")})
            people = named
    workshop.save()
    if skill_rows is not None:
        workshop.skills.set(skill_rows)
    if people is not None:
        workshop.facilitators.set(people)
        # Facilitators take no seat: a new facilitator's registration is cancelled.
        for registration in workshop.registrations.filter(
            user__in=people, status__in=ACTIVE_STATUSES
        ):
            registration.status = RegistrationStatus.CANCELLED
            registration.cancelled_at = timezone.now()
            registration.save(update_fields=["status", "cancelled_at"])
    _fill_seats(workshop)
    return workshop


@transaction.atomic
def workshop_cancel(*, actor: User, workshop: Workshop, reason: str = "") -> Workshop:
    """Cancel a workshop that has not ended; everyone registered or waitlisted is told."""
    workshop = _lock(workshop)
    if not can_edit_workshop(actor, workshop):
        raise PermissionDenied(_("Only this workshop's facilitators can cancel it."))
    if workshop.status == WorkshopStatus.CANCELLED:
        return workshop
    if is_past(workshop):
        raise ValidationError({"status": _("A workshop that has ended cannot be cancelled.")})
    if len(reason) > 500:
        raise ValidationError({"reason": _("Reasons are limited to 500 characters.")})
    workshop.status = WorkshopStatus.CANCELLED
    workshop.save(update_fields=["status"])
    text = _("“%(title)s” has been cancelled.") % {"title": workshop.title}
    if reason.strip():
        text += " " + reason.strip()
    for registration in workshop.registrations.filter(status__in=ACTIVE_STATUSES).select_related(
        "user"
    ):
        notification_send(
            recipient=registration.user,
            actor=actor,
            kind="workshops.cancelled",
            url=_url(workshop),
            text=text,
        )
    return workshop


# --- registration and the waitlist --------------------------------------------------------
def seats_taken(workshop: Workshop) -> int:
    return workshop.registrations.filter(status=RegistrationStatus.REGISTERED).count()


def _fill_seats(workshop: Workshop) -> list[Registration]:
    """Promote waitlisted members, first come first served, into free seats. The caller
    holds the workshop's row lock. (An open workshop has no waitlist: its waiting
    members, if it was opened up, all get in.)"""
    if workshop.status == WorkshopStatus.CANCELLED or is_past(workshop):
        return []
    queue = (
        workshop.registrations.filter(status=RegistrationStatus.WAITLISTED)
        .select_related("user")
        .order_by("created_at", "id")
    )
    if workshop.registration_required:
        free = workshop.capacity - seats_taken(workshop)
        if free <= 0:
            return []
        queue = queue[:free]
    waiting = list(queue)
    now = timezone.now()
    for registration in waiting:
        registration.status = RegistrationStatus.REGISTERED
        registration.promoted_at = now
        registration.save(update_fields=["status", "promoted_at"])
        notification_send(
            recipient=registration.user,
            kind="workshops.promoted",
            url=_url(workshop),
            text=_("A seat freed up: you are now registered for “%(title)s”.")
            % {"title": workshop.title},
        )
    return waiting


@transaction.atomic
def registration_create(*, workshop: Workshop, user: User) -> Registration:
    """Register ``user``: a seat if one is left, else a place on the waitlist. Again for
    an active registration returns it unchanged. Seats are counted under a lock on the
    workshop's row, so concurrent registrations never exceed the capacity. Open
    workshops (no registration required) never waitlist: registering there only asks
    for reminders and a calendar entry."""
    workshop = _lock(workshop)
    if not user.is_authenticated or not user.is_active:
        raise PermissionDenied(_("Sign in to register."))
    if workshop.status == WorkshopStatus.CANCELLED:
        raise ValidationError({"workshop": _("This workshop has been cancelled.")})
    if is_past(workshop):
        raise ValidationError({"workshop": _("This workshop has ended.")})
    if workshop.facilitators.filter(pk=user.pk).exists():
        raise ValidationError(
            {"workshop": _("You facilitate this workshop: you need no registration.")}
        )
    registration = Registration.objects.filter(workshop=workshop, user=user).first()
    if registration is not None and registration.status in ACTIVE_STATUSES:
        return registration
    full = workshop.registration_required and seats_taken(workshop) >= workshop.capacity
    status = RegistrationStatus.WAITLISTED if full else RegistrationStatus.REGISTERED
    if registration is None:
        return Registration.objects.create(workshop=workshop, user=user, status=status)
    if registration.removed_at is not None:
        raise PermissionDenied(_("A facilitator removed you from this workshop."))
    # Registering again after cancelling: to the back of the queue.
    registration.status = status
    registration.created_at = timezone.now()
    registration.cancelled_at = None
    registration.promoted_at = None
    registration.save(update_fields=["status", "created_at", "cancelled_at", "promoted_at"])
    return registration


@transaction.atomic
def registration_cancel(*, actor: User, registration: Registration) -> Registration:
    """Cancel a registration (the member's own; staff may cancel anyone's). A freed seat
    goes to the first member on the waitlist, in the same transaction, and they are told."""
    if actor.pk != registration.user_id and not actor.is_staff:
        raise PermissionDenied(_("You can only cancel your own registration."))
    workshop = _lock(registration.workshop)
    registration = Registration.objects.select_for_update().get(pk=registration.pk)
    if registration.status == RegistrationStatus.CANCELLED:
        return registration
    if is_past(workshop):
        raise ValidationError({"workshop": _("This workshop has ended.")})
    registration.status = RegistrationStatus.CANCELLED
    registration.cancelled_at = timezone.now()
    registration.save(update_fields=["status", "cancelled_at"])
    _fill_seats(workshop)
    return registration


# --- calendar feed ------------------------------------------------------------------------
def calendar_feed_get_or_create(*, user: User) -> CalendarFeed:
    feed, _created = CalendarFeed.objects.get_or_create(user=user)
    return feed


def calendar_feed_reset(*, user: User) -> CalendarFeed:
    """A new secret feed URL; the old one stops working at once."""
    from workshops.models import _feed_token

    feed = calendar_feed_get_or_create(user=user)
    feed.token = _feed_token()
    feed.save(update_fields=["token"])
    return feed


# --- reminders ----------------------------------------------------------------------------
def local_time_label(when: dt.datetime, zone_name: str) -> str:
    """ "Tuesday 7 January 2031, 09:00 (Asia/Seoul)": a time in a zone, the zone named."""
    zone = zoneinfo.ZoneInfo(zone_name if zone_name in time_zone_names() else "UTC")
    local = when.astimezone(zone)
    return f"{formats.date_format(local, 'l j F Y, H:i')} ({zone.key})"


def _reminder_email(registration: Registration, which: str) -> EmailMessage:
    workshop, user = registration.workshop, registration.user
    profile: Profile | None = getattr(user, "profile", None)
    zone = profile.time_zone if profile is not None else "UTC"
    name = profile.display_name if profile is not None else user.username
    when = local_time_label(workshop.starts_at, zone)
    url = f"{settings.SITE_URL}{_url(workshop)}"
    if which == "1h":
        subject = _("Starting within the hour: %(title)s") % {"title": workshop.title}
    else:
        subject = _("Coming up: %(title)s") % {"title": workshop.title}
    body = "\n".join(
        [
            _("Hello %(name)s,") % {"name": name},
            "",
            _("“%(title)s” starts on %(when)s.") % {"title": workshop.title, "when": when},
            _("Language: %(language)s.") % {"language": language_name(workshop.language)},
            "",
            _("Details and the calendar file: %(url)s") % {"url": url},
            _("The live room: %(url)sroom/") % {"url": url},
            "",
            _(
                "Cannot come? Cancel your registration on the workshop's page so that someone on "
                "the waitlist gets your seat."
            ),
            "",
            "-- Workforce Hub",
        ]
    )
    return EmailMessage(subject=f"[Workforce Hub] {subject}"[:200], body=body, to=[user.email])


def workshop_reminders_send(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Send due reminder e-mails to registered members: one 24 hours before and one
    1 hour before, each at most once (claimed by a conditional update, so overlapping
    runs cannot send twice). A workshop starting within the hour gets only the 1 h one.
    Meant to run from cron every few minutes."""
    now = now or timezone.now()
    sent = {"24h": 0, "1h": 0}
    windows = {
        "1h": (now, now + REMINDER_WINDOWS["1h"], "reminded_1h_at"),
        "24h": (now + REMINDER_WINDOWS["1h"], now + REMINDER_WINDOWS["24h"], "reminded_24h_at"),
    }
    connection = get_connection(fail_silently=True)
    for which, (after, until, field) in windows.items():
        due = (
            Registration.objects.filter(
                status=RegistrationStatus.REGISTERED,
                user__is_active=True,
                workshop__status__in=[WorkshopStatus.SCHEDULED, WorkshopStatus.LIVE],
                workshop__starts_at__gt=after,
                workshop__starts_at__lte=until,
                **{f"{field}__isnull": True},
            )
            .exclude(user__email="")
            .select_related("workshop", "user__profile")
            .order_by("workshop__starts_at", "id")
        )
        for registration in due:
            claimed = Registration.objects.filter(
                pk=registration.pk, **{f"{field}__isnull": True}
            ).update(**{field: now})
            if not claimed:
                continue  # another run took it
            message = _reminder_email(registration, which)
            message.connection = connection
            message.send()
            sent[which] += 1
    return sent
