"""Helpers for the scheduling tests (no tests here): facilitators, members and workshops
made through the services, and moving a workshop in time the way the clock would."""

import datetime as dt
import itertools
import zoneinfo
from typing import Any

from django.utils import timezone

from community.models import User
from tests.factories import UserFactory, make_member
from workshops import services
from workshops.models import Workshop

SEOUL = zoneinfo.ZoneInfo("Asia/Seoul")  # UTC+9, no daylight saving time
LAGOS = zoneinfo.ZoneInfo("Africa/Lagos")  # UTC+1, no daylight saving time
KOLKATA = zoneinfo.ZoneInfo("Asia/Kolkata")  # UTC+5:30, no daylight saving time
NEXT_YEAR = timezone.now().year + 1

_numbers = itertools.count(1)


def facilitator(
    username: str | None = None, *, time_zone: str = "UTC", display_name: str = ""
) -> User:
    """A member with the facilitator role."""
    name = username or f"facil{next(_numbers)}"
    return make_member(
        name,
        display_name=display_name or name.title(),
        roles=("professional", "facilitator"),
        time_zone=time_zone,
    ).user


def learner(username: str | None = None, *, time_zone: str = "UTC", display_name: str = "") -> User:
    """A member without the facilitator role."""
    name = username or f"learner{next(_numbers)}"
    return make_member(
        name, display_name=display_name or name.title(), roles=("learner",), time_zone=time_zone
    ).user


def staff(username: str = "hubstaff") -> User:
    """A staff account (no facilitator role)."""
    pk = UserFactory(username=username).pk
    User.objects.filter(pk=pk).update(is_staff=True)
    return User.objects.get(pk=pk)


def in_future(*, days: float = 0, hours: float = 0, minutes: float = 0) -> dt.datetime:
    """An aware UTC time from now, on a whole minute (the service drops seconds)."""
    when = timezone.now() + dt.timedelta(days=days, hours=hours, minutes=minutes)
    return when.replace(second=0, microsecond=0)


def workshop(
    actor: User | None = None,
    *,
    title: str = "GMP deviation investigations and CAPA",
    starts_at: dt.datetime | None = None,
    minutes: int = 90,
    **fields: Any,
) -> Workshop:
    """A workshop scheduled through the service (by default in three days, 90 minutes)."""
    actor = actor or facilitator()
    starts = starts_at or in_future(days=3)
    return services.workshop_create(
        actor=actor,
        title=title,
        starts_at=starts,
        ends_at=starts + dt.timedelta(minutes=minutes),
        **fields,
    )


def move(workshop: Workshop, *, starts_at: dt.datetime, minutes: int = 90) -> Workshop:
    """Put a workshop at another time, as if the clock had moved (e.g. into the past)."""
    Workshop.objects.filter(pk=workshop.pk).update(
        starts_at=starts_at, ends_at=starts_at + dt.timedelta(minutes=minutes)
    )
    workshop.refresh_from_db()
    return workshop
