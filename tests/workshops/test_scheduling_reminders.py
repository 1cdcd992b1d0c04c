"""Reminder e-mails: `manage.py workshop_reminders` sends a 24 h and a 1 h reminder to
registered members, each once, in the right window, with the start in each member's zone."""

import datetime as dt
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command

from tests.workshops.test_scheduling_support import (
    KOLKATA,
    facilitator,
    in_future,
    learner,
    workshop,
)
from workshops import services
from workshops.models import Registration

pytestmark = pytest.mark.django_db


def _run() -> str:
    out = StringIO()
    call_command("workshop_reminders", stdout=out)
    return out.getvalue()


def _sent_to() -> list[tuple[str, str]]:
    return sorted((m.to[0], str(m.subject)) for m in mail.outbox)


def test_each_registered_member_gets_the_reminder_due_once() -> None:
    """50 minutes ahead: the 1 h one only; 23 hours ahead: the 24 h one; 25 h: none yet."""
    host = facilitator()
    soon = workshop(host, title="Protein A chromatography troubleshooting",
                    starts_at=in_future(minutes=50))  # fmt: skip
    tomorrow = workshop(host, title="Aseptic process simulation", starts_at=in_future(hours=23))
    later = workshop(host, title="mRNA-LNP formulation basics", starts_at=in_future(hours=25))
    ada, ben = learner("ada"), learner("ben")
    for target in (soon, tomorrow, later):
        services.registration_create(workshop=target, user=ada)
    services.registration_create(workshop=soon, user=ben)

    assert "sent 1 24-hour and 2 1-hour reminders" in _run()
    assert _sent_to() == sorted(
        [
            (ada.email, "[Workforce Hub] Starting within the hour: Protein A chromatography "
             "troubleshooting"),
            (ben.email, "[Workforce Hub] Starting within the hour: Protein A chromatography "
             "troubleshooting"),
            (ada.email, "[Workforce Hub] Coming up: Aseptic process simulation"),
        ]
    )  # fmt: skip
    mine = Registration.objects.get(workshop=soon, user=ada)
    assert mine.reminded_1h_at is not None
    assert mine.reminded_24h_at is None  # it started within the hour: no 24 h reminder
    assert Registration.objects.get(workshop=later, user=ada).reminded_24h_at is None

    mail.outbox.clear()
    assert "sent 0 24-hour and 0 1-hour reminders" in _run()
    assert mail.outbox == []


def test_the_1h_reminder_follows_the_24h_one_when_its_time_comes() -> None:
    """A member reminded a day before is reminded again an hour before, each once."""
    start = in_future(days=2)
    target = workshop(starts_at=start, title="GMP deviation investigations and CAPA")
    member = learner()
    services.registration_create(workshop=target, user=member)
    moments = [
        start - dt.timedelta(hours=30),  # nothing due yet
        start - dt.timedelta(hours=23, minutes=55),  # the 24 h one
        start - dt.timedelta(hours=12),  # nothing new
        start - dt.timedelta(minutes=58),  # the 1 h one
        start - dt.timedelta(minutes=20),  # nothing new
        start + dt.timedelta(minutes=5),  # started: nothing
    ]
    sent = [services.workshop_reminders_send(now=now) for now in moments]
    assert sent == [
        {"24h": 0, "1h": 0},
        {"24h": 1, "1h": 0},
        {"24h": 0, "1h": 0},
        {"24h": 0, "1h": 1},
        {"24h": 0, "1h": 0},
        {"24h": 0, "1h": 0},
    ]
    assert [m.to for m in mail.outbox] == [[member.email], [member.email]]


def test_reminders_show_the_start_in_each_members_own_zone() -> None:
    """The e-mail gives the start in the member's zone and names that zone."""
    start = in_future(minutes=45)
    target = workshop(starts_at=start, title="Cold chain excursions")
    member = learner("priya", time_zone="Asia/Kolkata", display_name="Priya R.")
    services.registration_create(workshop=target, user=member)
    _run()
    (message,) = mail.outbox
    local = start.astimezone(KOLKATA)
    assert f"{local:%H:%M} (Asia/Kolkata)" in message.body
    assert str(local.day) in message.body
    assert "Hello Priya R.," in message.body
    assert f"/workshops/{target.pk}/" in message.body


def test_no_reminders_for_the_waitlist_cancellations_or_cancelled_workshops() -> None:
    """Only members holding a seat in a workshop still on are reminded."""
    host = facilitator()
    full = workshop(host, capacity=1, starts_at=in_future(minutes=30))
    called_off = workshop(host, starts_at=in_future(hours=3))
    seated, waiting, gone, told = learner(), learner(), learner(), learner()
    services.registration_create(workshop=full, user=seated)
    services.registration_create(workshop=full, user=waiting)
    services.registration_create(workshop=called_off, user=gone)
    services.registration_create(workshop=called_off, user=told)
    services.registration_cancel(
        actor=gone, registration=Registration.objects.get(workshop=called_off, user=gone)
    )
    services.workshop_cancel(actor=host, workshop=called_off)
    mail.outbox.clear()
    _run()
    assert [m.to for m in mail.outbox] == [[seated.email]]
