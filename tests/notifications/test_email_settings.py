"""E-mail choices for notifications (immediate, daily digest, off), the settings page
and API, and the ``send_notification_digests`` command."""

import datetime as dt
from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from community.models import User
from community.notifications.models import EmailMode, Notification, NotificationSettings
from community.notifications.services import (
    digest_slot,
    notification_digests_send,
    notification_send,
    notification_settings_update,
)
from tests.factories import make_member

pytestmark = pytest.mark.django_db


def _user(mode: str | None = None, **kw: Any) -> User:
    user = make_member().user
    if mode:
        notification_settings_update(user=user, email_mode=mode, **kw)
    return user


def _send(user: User, text: str = "Something happened", **kw: Any) -> Notification:
    return notification_send(recipient=user, kind="test", text=text, url="/forums/p/1/", **kw)


def test_notification_send_follows_the_members_choice(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    immediate, digest, off = _user(), _user(EmailMode.DIGEST), _user(EmailMode.OFF)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        for user in (immediate, digest, off):
            _send(user)
    assert [m.to for m in mail.outbox] == [[immediate.email]]
    assert "http://" in mail.outbox[0].body
    assert "/forums/p/1/" in mail.outbox[0].body
    assert Notification.objects.filter(emailed_at__isnull=False).get().recipient == immediate


def test_settings_service_refuses_bad_values_and_changes_nothing() -> None:
    user = _user(EmailMode.DIGEST, digest_hour_utc=5)
    for kwargs in ({"email_mode": "weekly"}, {"digest_hour_utc": 24}, {"digest_hour_utc": -1}):
        with pytest.raises(ValidationError):
            notification_settings_update(user=user, **kwargs)
    found = NotificationSettings.objects.get(user=user)
    assert (found.email_mode, found.digest_hour_utc) == ("digest", 5)


def test_settings_page() -> None:
    user = _user()
    c = Client()
    c.force_login(user)
    page = c.get("/notifications/settings/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'value="immediate"' in html
    assert "checked" in html
    assert "<legend>" in html
    response = c.post("/notifications/settings/", {"email_mode": "digest", "digest_hour_utc": "18"})
    assert response.status_code == 302
    found = NotificationSettings.objects.get(user=user)
    assert (found.email_mode, found.digest_hour_utc) == ("digest", 18)
    bad = c.post("/notifications/settings/", {"email_mode": "hourly", "digest_hour_utc": "99"})
    assert bad.status_code == 400
    assert 'role="alert"' in bad.content.decode()
    assert NotificationSettings.objects.get(user=user).email_mode == "digest"
    anonymous = Client().get("/notifications/settings/")
    assert anonymous.status_code == 302
    assert "/login/" in anonymous["Location"]


def test_settings_api() -> None:
    user = _user()
    api = APIClient()
    api.force_authenticate(user)
    url = "/api/v1/notifications/settings/"
    assert api.get(url).json() == {"email_mode": "immediate", "digest_hour_utc": 7}
    response = api.patch(url, {"email_mode": "off"}, format="json")
    assert response.status_code == 200
    assert response.json()["email_mode"] == "off"
    for data in ({"email_mode": "never"}, {"digest_hour_utc": 30}, {"digest_hour_utc": "x"}):
        bad = api.patch(url, data, format="json")
        assert bad.status_code == 400
        assert bad.json()["error"]["code"] == "invalid"
    assert api.get(url).json() == {"email_mode": "off", "digest_hour_utc": 7}
    assert APIClient().get(url).status_code in {401, 403}


def test_digest_slot() -> None:
    at = dt.datetime(2026, 3, 10, 9, 30, tzinfo=dt.UTC)
    assert digest_slot(now=at, hour=7) == dt.datetime(2026, 3, 10, 7, tzinfo=dt.UTC)
    assert digest_slot(now=at, hour=9) == dt.datetime(2026, 3, 10, 9, tzinfo=dt.UTC)
    assert digest_slot(now=at, hour=10) == dt.datetime(2026, 3, 9, 10, tzinfo=dt.UTC)


def test_digest_sends_one_email_per_member_with_unread_unmailed_notifications_of_the_day() -> None:
    amina, kwame = _user(EmailMode.DIGEST), _user(EmailMode.DIGEST)
    immediate, off = _user(), _user(EmailMode.OFF)
    fresh = [_send(amina, f"Fresh news {i}") for i in range(3)]
    read = _send(amina, "Already read")
    Notification.objects.filter(pk=read.pk).update(read_at=timezone.now())
    old = _send(amina, "Old news")
    Notification.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=2))
    _send(kwame, "Kwame's news")
    for user in (immediate, off):
        Notification.objects.create(recipient=user, kind="test", text="not for the digest")
    mail.outbox.clear()
    out = StringIO()
    call_command("send_notification_digests", "--now", stdout=out)
    assert "Sent 2 digest" in out.getvalue()
    by_to = {m.to[0]: m for m in mail.outbox}
    assert set(by_to) == {amina.email, kwame.email}
    message = by_to[amina.email]
    assert "3 new notifications" in message.subject
    for n in fresh:
        assert n.text in message.body
    assert "Already read" not in message.body
    assert "Old news" not in message.body
    html, mime = message.alternatives[0]  # type: ignore[attr-defined]
    assert mime == "text/html"
    assert "<li>" in html
    assert "Fresh news 0" in html
    assert set(Notification.objects.filter(recipient=amina, emailed_at__isnull=False)) == set(fresh)
    assert NotificationSettings.objects.get(user=amina).last_digest_at is not None
    # Idempotent: nothing is e-mailed twice.
    call_command("send_notification_digests", "--now", stdout=StringIO())
    assert len(mail.outbox) == 2


def test_digest_goes_out_once_per_day_at_the_members_hour() -> None:
    user = _user(EmailMode.DIGEST, digest_hour_utc=8)
    morning = dt.datetime(2026, 3, 10, 8, 5, tzinfo=dt.UTC)
    first = _send(user, "First")
    Notification.objects.filter(pk=first.pk).update(created_at=morning - dt.timedelta(hours=1))
    mail.outbox.clear()
    assert notification_digests_send(now=morning) == 1
    second = _send(user, "Second")
    Notification.objects.filter(pk=second.pk).update(created_at=morning + dt.timedelta(hours=1))
    # Until 08:00 the next day, today's digest has gone out.
    assert notification_digests_send(now=morning + dt.timedelta(hours=3)) == 0
    assert notification_digests_send(now=morning + dt.timedelta(hours=23, minutes=50)) == 0
    assert notification_digests_send(now=morning + dt.timedelta(hours=24)) == 1
    assert len(mail.outbox) == 2
    assert "Second" in mail.outbox[1].body
    assert "First" not in mail.outbox[1].body


def test_digest_for_nothing_sends_nothing() -> None:
    _user(EmailMode.DIGEST)
    mail.outbox.clear()
    assert notification_digests_send(force=True) == 0
    assert not mail.outbox
