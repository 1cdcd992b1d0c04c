"""Send notifications: store them, push them live, and e-mail them."""

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from community.models import User
from community.notifications.models import Notification
from realtime.events import publish_to_user


def _email(notification_id: int) -> None:
    notification = Notification.objects.select_related("recipient").get(pk=notification_id)
    recipient = notification.recipient
    if not recipient.email or not recipient.is_active:
        return
    link = f"\n\n{settings.SITE_URL}{notification.url}" if notification.url else ""
    send_mail(
        subject=f"[Workforce Hub] {notification.text[:120]}",
        message=f"{notification.text}{link}\n\n-- Workforce Hub",
        from_email=None,
        recipient_list=[recipient.email],
        fail_silently=True,
    )
    Notification.objects.filter(pk=notification_id).update(emailed_at=timezone.now())


def notification_send(
    *,
    recipient: User,
    kind: str,
    text: str,
    url: str = "",
    actor: User | None = None,
    email: bool = True,
) -> Notification:
    """Store a notification, push it to the member's open sockets and e-mail it, all
    after the surrounding transaction commits."""
    notification = Notification.objects.create(
        recipient=recipient, actor=actor, kind=kind, text=text[:300], url=url[:300]
    )
    publish_to_user(
        user_id=recipient.pk,
        event_type="notification",
        data={"id": notification.pk, "kind": kind, "text": notification.text, "url": url},
    )
    if email:
        transaction.on_commit(lambda: _email(notification.pk))
    return notification


def notifications_mark_read(*, user: User, ids: list[int] | None = None) -> int:
    """Mark the member's notifications read (all of them when ``ids`` is None)."""
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())
