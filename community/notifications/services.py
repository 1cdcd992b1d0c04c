"""Send notifications: store them, push them live, and e-mail them the way each member
chose (right away, in a daily digest, or never).

E-mail is sent after the surrounding transaction commits. A notification is e-mailed at
most once: ``emailed_at`` is set when it goes out, in an e-mail of its own (immediate
mode) or in a digest (``notification_digests_send``, run by the
``send_notification_digests`` command).
"""

import datetime as dt
import logging
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection, transaction
from django.db.models import CharField, Exists, F, OuterRef, Value
from django.db.models.functions import Cast, Concat
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from community.models import User
from community.notifications.models import EmailMode, Notification, NotificationSettings
from realtime.events import publish_to_user

logger = logging.getLogger(__name__)

DIGEST_WINDOW = dt.timedelta(days=1)
# One digest lists at most this many notifications (and says how many more there are).
DIGEST_MAX_ITEMS = 50


def _subject(text: str) -> str:
    return f"[Workforce Hub] {text[:120]}"


def _email(notification_id: int) -> None:
    _email_many([notification_id])


def _email_many(notification_ids: Sequence[int]) -> None:
    """E-mail each notification on its own (immediate mode), over one connection, and
    mark them e-mailed. Ones already e-mailed are skipped."""
    notifications = list(
        Notification.objects.select_related("recipient")
        .filter(pk__in=notification_ids, emailed_at__isnull=True)
        .order_by("pk")
    )
    messages = []
    sent = []
    for notification in notifications:
        recipient = notification.recipient
        if not recipient.email or not recipient.is_active:
            continue
        link = f"\n\n{settings.SITE_URL}{notification.url}" if notification.url else ""
        manage = f"{settings.SITE_URL}/notifications/settings/"
        messages.append(
            EmailMultiAlternatives(
                subject=_subject(notification.text),
                body=(
                    f"{notification.text}{link}\n\n-- Workforce Hub\n"
                    + _("Choose how we e-mail you: %(url)s") % {"url": manage}
                ),
                to=[recipient.email],
            )
        )
        sent.append(notification.pk)
    if not messages:
        return
    try:
        get_connection(fail_silently=True).send_messages(messages)
    except Exception:  # pragma: no cover - fail_silently covers the backends we use
        logger.exception("notification e-mails failed")
        return
    Notification.objects.filter(pk__in=sent).update(emailed_at=timezone.now())


def email_modes(user_ids: Iterable[int]) -> dict[int, str]:
    """Each member's e-mail mode (members without settings get the default), in one
    query."""
    ids = list(user_ids)
    modes = {pk: str(EmailMode.IMMEDIATE) for pk in ids}
    if ids:
        modes.update(
            NotificationSettings.objects.filter(user_id__in=ids).values_list(
                "user_id", "email_mode"
            )
        )
    return modes


def _publish(notification: Notification) -> None:
    publish_to_user(
        user_id=notification.recipient_id,
        event_type="notification",
        data={
            "id": notification.pk,
            "kind": notification.kind,
            "text": notification.text,
            "url": notification.url,
            "count": notification.count,
        },
    )


def _schedule_emails(notifications: Sequence[Notification]) -> None:
    modes = email_modes({n.recipient_id for n in notifications})
    ids = [n.pk for n in notifications if modes.get(n.recipient_id) == EmailMode.IMMEDIATE]
    if ids:
        transaction.on_commit(lambda: _email_many(ids))


def notification_send(
    *,
    recipient: User,
    kind: str,
    text: str,
    url: str = "",
    actor: User | None = None,
    email: bool = True,
) -> Notification:
    """Store a notification and push it to the member's open sockets after the
    surrounding transaction commits. With ``email``, it is e-mailed the member's way:
    right away (after commit), in the next daily digest, or not at all."""
    notification = Notification.objects.create(
        recipient=recipient, actor=actor, kind=kind, text=text[:300], url=url[:300]
    )
    _publish(notification)
    if email:
        _schedule_emails([notification])
    return notification


def notifications_send_many(
    notifications: Sequence[Notification], *, email: bool = True
) -> list[Notification]:
    """Store many (unsaved) notifications at once, push each and e-mail them the
    members' ways: a constant number of queries however many there are."""
    for n in notifications:
        n.text = n.text[:300]
        n.url = n.url[:300]
    created = Notification.objects.bulk_create(notifications)
    if not connection.features.can_return_rows_from_bulk_insert:  # pragma: no cover
        raise RuntimeError("notifications_send_many needs a database that returns ids")
    for n in created:
        _publish(n)
    if email and created:
        _schedule_emails(created)
    return created


def notifications_send_grouped(
    *,
    recipient_ids: Iterable[int],
    kind: str,
    key: str,
    text: str,
    grouped_text: str,
    url: str = "",
    actor: User | None = None,
) -> tuple[list[Notification], list[int]]:
    """Send one notification to each member, collapsing into the member's unread
    notification with the same ``key`` when there is one: that one is updated (its
    ``count`` goes up, its text becomes ``grouped_text`` with ``{count}`` filled in,
    its link and time are the new ones) and pushed again, but not e-mailed again.

    Returns the new notifications and the ids of the updated ones. The caller holds a
    lock that serialises sends with the same key (forums: the topic row), so that two
    sends cannot both create one. Constant number of queries."""
    ids = set(recipient_ids)
    if not ids:
        return [], []
    prefix, _sep, suffix = grouped_text.partition("{count}")
    existing = list(
        Notification.objects.filter(
            key=key, kind=kind, read_at__isnull=True, recipient_id__in=ids
        ).values_list("pk", "recipient_id", "count")
    )
    now = timezone.now()
    updated_ids = [pk for pk, _r, _c in existing]
    if updated_ids:
        Notification.objects.filter(pk__in=updated_ids).update(
            count=F("count") + 1,
            text=Concat(
                Value(prefix),
                Cast(F("count") + 1, output_field=CharField()),
                Value(suffix[:250]),
                output_field=CharField(),
            ),
            url=url[:300],
            actor=actor,
            created_at=now,
        )
        for pk, recipient_id, count in existing:
            n = Notification(
                pk=pk,
                recipient_id=recipient_id,
                kind=kind,
                key=key,
                url=url[:300],
                count=count + 1,
                text=f"{prefix}{count + 1}{suffix[:250]}"[:300],
            )
            _publish(n)
    seen = {recipient_id for _pk, recipient_id, _c in existing}
    created = notifications_send_many(
        [
            Notification(recipient_id=pk, actor=actor, kind=kind, key=key, text=text, url=url)
            for pk in sorted(ids - seen)
        ]
    )
    return created, updated_ids


def notifications_mark_read(*, user: User, ids: list[int] | None = None) -> int:
    """Mark the member's notifications read (all of them when ``ids`` is None)."""
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())


# --- settings ----------------------------------------------------------------------------
def notification_settings_get(*, user: User) -> NotificationSettings:
    """The member's settings (the defaults, unsaved, when they never chose)."""
    found = NotificationSettings.objects.filter(user=user).first()
    return found or NotificationSettings(user=user)


def notification_settings_update(
    *, user: User, email_mode: str | None = None, digest_hour_utc: int | None = None
) -> NotificationSettings:
    """Change how the member is e-mailed. Bad values raise ValidationError and change
    nothing."""
    errors: dict[str, str] = {}
    if email_mode is not None and email_mode not in EmailMode.values:
        errors["email_mode"] = _("Choose one of: %(modes)s.") % {
            "modes": ", ".join(EmailMode.values)
        }
    if digest_hour_utc is not None and (
        isinstance(digest_hour_utc, bool)
        or not isinstance(digest_hour_utc, int)
        or not 0 <= digest_hour_utc <= 23
    ):
        errors["digest_hour_utc"] = _("Choose an hour from 0 to 23.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        found, _created = NotificationSettings.objects.select_for_update().get_or_create(user=user)
        if email_mode is not None:
            found.email_mode = email_mode
        if digest_hour_utc is not None:
            found.digest_hour_utc = digest_hour_utc
        found.save()
    return found


# --- daily digest ------------------------------------------------------------------------
def digest_slot(*, now: dt.datetime, hour: int) -> dt.datetime:
    """The latest time at ``hour``:00 UTC that is not after ``now``."""
    now = now.astimezone(dt.UTC)
    slot = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    return slot if slot <= now else slot - dt.timedelta(days=1)


def _digest_due(found: NotificationSettings, now: dt.datetime, force: bool) -> bool:
    if found.email_mode != EmailMode.DIGEST:
        return False
    if force or found.last_digest_at is None:
        return True
    return found.last_digest_at < digest_slot(now=now, hour=found.digest_hour_utc)


def _digest_pending(user_id: int, now: dt.datetime) -> "list[Notification]":
    return list(
        Notification.objects.filter(
            recipient_id=user_id,
            read_at__isnull=True,
            emailed_at__isnull=True,
            created_at__gte=now - DIGEST_WINDOW,
        ).order_by("-created_at", "-id")
    )


def _digest_message(user: User, items: list[Notification]) -> EmailMultiAlternatives:
    shown = items[:DIGEST_MAX_ITEMS]
    context = {
        "user": user,
        "items": shown,
        "more": len(items) - len(shown),
        "total": len(items),
        "site_url": settings.SITE_URL,
    }
    message = EmailMultiAlternatives(
        subject=_subject(
            _("Your daily digest: %(n)d new notifications") % {"n": len(items)}
            if len(items) != 1
            else _("Your daily digest: 1 new notification")
        ),
        body=render_to_string("notifications/digest_email.txt", context),
        to=[user.email],
    )
    message.attach_alternative(
        render_to_string("notifications/digest_email.html", context), "text/html"
    )
    return message


def notification_digest_send(
    *, user_id: int, now: dt.datetime | None = None, force: bool = False
) -> int:
    """Send one member's digest if it is due: one e-mail with their unread notifications
    of the last day that were never e-mailed; mark them e-mailed. Returns how many
    notifications it carried (0: nothing sent). Safe to run twice at once: the member's
    settings row is locked, and a notification is e-mailed at most once."""
    now = now or timezone.now()
    with transaction.atomic():
        found = (
            NotificationSettings.objects.select_for_update(
                skip_locked=connection.features.has_select_for_update_skip_locked
            )
            .select_related("user")
            .filter(user_id=user_id)
            .first()
        )
        if found is None or not _digest_due(found, now, force):
            return 0
        user = found.user
        if not user.is_active or not user.email:
            return 0
        items = _digest_pending(user_id, now)
        if not items:
            return 0
        # Sent inside the transaction: if sending fails, nothing is marked and the next
        # run tries again; if it succeeds, the marks commit with it.
        _digest_message(user, items).send(fail_silently=False)
        Notification.objects.filter(pk__in=[n.pk for n in items]).update(emailed_at=now)
        NotificationSettings.objects.filter(pk=found.pk).update(last_digest_at=now)
    return len(items)


def notification_digests_send(*, now: dt.datetime | None = None, force: bool = False) -> int:
    """Send every due daily digest (see ``notification_digest_send``); returns how many
    e-mails went out. A member whose e-mail fails is logged and retried next run."""
    now = now or timezone.now()
    pending = Notification.objects.filter(
        recipient_id=OuterRef("user_id"),
        read_at__isnull=True,
        emailed_at__isnull=True,
        created_at__gte=now - DIGEST_WINDOW,
    )
    candidates = (
        NotificationSettings.objects.filter(email_mode=EmailMode.DIGEST, user__is_active=True)
        .filter(Exists(pending))
        .order_by("user_id")
    )
    sent = 0
    for found in candidates.iterator():
        if not _digest_due(found, now, force):
            continue
        try:
            if notification_digest_send(user_id=found.user_id, now=now, force=force):
                sent += 1
        except Exception:
            logger.exception("digest for member %s failed; next run retries", found.user_id)
    return sent
