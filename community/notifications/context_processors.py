from typing import Any

from django.http import HttpRequest

from community.notifications.selectors import notification_unread_count


def unread(request: HttpRequest) -> dict[str, Any]:
    """``unread_notifications``: counted only if a template asks for it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": lambda: notification_unread_count(user=user)}
