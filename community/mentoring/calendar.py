"""Calendar invites (.ics) for mentoring meetings."""

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from community.mentoring.models import Mentorship
from community.models import Profile, User


def _name(user: User) -> str:
    try:
        return user.profile.display_name or user.username
    except Profile.DoesNotExist:
        return user.username


def meeting_invite_ics(mentorship: Mentorship, start_utc: dt.datetime, minutes: int) -> bytes:
    """An iCalendar file with one event: a mentoring meeting of ``minutes`` at ``start_utc``."""
    if timezone.is_naive(start_utc):
        raise ValueError("start_utc must be timezone-aware")
    start = start_utc.astimezone(dt.UTC).replace(second=0, microsecond=0)
    mentee, mentor = _name(mentorship.mentee), _name(mentorship.mentor)
    cal = Calendar()
    cal.add("prodid", "-//Workforce Hub//Mentoring//EN")
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"mentorship-{mentorship.pk}-{start:%Y%m%dT%H%M%SZ}@workforce-hub")
    event.add("dtstamp", timezone.now().astimezone(dt.UTC).replace(microsecond=0))
    event.add("dtstart", start)
    event.add("dtend", start + dt.timedelta(minutes=minutes))
    event.add(
        "summary", _("Mentoring: %(mentee)s and %(mentor)s") % {"mentee": mentee, "mentor": mentor}
    )
    description = _("Mentoring meeting planned on Workforce Hub.")
    if mentorship.goals:
        description += "\n\n" + _("Goals:") + "\n" + mentorship.goals
    event.add("description", description)
    cal.add_component(event)
    return cal.to_ical()
