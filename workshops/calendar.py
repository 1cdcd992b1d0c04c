"""Workshops as iCalendar: one .ics per workshop and a member's private feed.

Every event has a stable UID (the same workshop is the same event in every file and in
the feed, so calendars update it rather than add a copy), DTSTART/DTEND in UTC, the
workshop's URL and a plain-text description.
"""

import datetime as dt
import html
import re
from collections.abc import Iterable

from django.conf import settings
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from community.languages import language_name
from community.markup import render_markdown
from community.models import Profile, User
from workshops.models import Workshop, WorkshopStatus

PRODID = "-//Workforce Hub//Workshops//EN"


def workshop_uid(workshop: Workshop) -> str:
    return f"workshop-{workshop.pk}@workforce-hub"


def _name(user: User) -> str:
    try:
        return user.profile.display_name or user.username
    except Profile.DoesNotExist:
        return user.username


def plain_text(markdown: str) -> str:
    """Markdown as readable plain text: paragraphs and list items on their own lines,
    no markup (what a member wrote as text stays as they wrote it)."""
    rendered = str(render_markdown(markdown))
    rendered = re.sub(r"<li[^>]*>", "- ", rendered)
    rendered = re.sub(r"<br\s*/?>|</(p|li|h\d|pre|blockquote|tr)>", "\n", rendered)
    text = html.unescape(strip_tags(rendered))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return "\n".join(line for line in lines if line).strip()


def _utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC).replace(microsecond=0)


def _event(workshop: Workshop, stamp: dt.datetime) -> Event:
    url = f"{settings.SITE_URL}{workshop.get_absolute_url()}"
    facilitators = ", ".join(_name(u) for u in workshop.facilitators.all())
    lines = []
    summary = plain_text(workshop.description)[:4000]
    if summary:
        lines += [summary, ""]
    if facilitators:
        lines.append(_("Facilitators: %s") % facilitators)
    lines.append(_("Language: %s") % language_name(workshop.language))
    lines.append(_("Details and the live room: %s") % url)
    event = Event()
    event.add("uid", workshop_uid(workshop))
    event.add("dtstamp", stamp)
    event.add("dtstart", _utc(workshop.starts_at))
    event.add("dtend", _utc(workshop.ends_at))
    event.add("summary", workshop.title)
    event.add("description", "\n".join(lines))
    event.add("url", url)
    event.add("location", f"{url}room/")
    cancelled = workshop.status == WorkshopStatus.CANCELLED
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    return event


def _calendar(name: str, workshops: Iterable[Workshop], *, method: str | None) -> bytes:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    if method:
        cal.add("method", method)
    cal.add("x-wr-calname", name)
    stamp = _utc(timezone.now())
    for workshop in workshops:
        cal.add_component(_event(workshop, stamp))
    return bytes(cal.to_ical())


def workshop_ics(workshop: Workshop) -> bytes:
    """An .ics file with the one workshop."""
    return _calendar(workshop.title, [workshop], method="PUBLISH")


def feed_ics(user: User, workshops: Iterable[Workshop]) -> bytes:
    """A member's calendar feed: their upcoming workshops."""
    return _calendar(_("Workforce Hub workshops of %s") % _name(user), workshops, method=None)
