from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from community.models import User
from community.notifications.forms import NotificationSettingsForm
from community.notifications.selectors import notification_list
from community.notifications.services import (
    notification_settings_get,
    notification_settings_update,
    notifications_mark_read,
)


@login_required
def notification_inbox(request: HttpRequest) -> HttpResponse:
    assert isinstance(request.user, User)
    unread_only = request.GET.get("unread") == "1"
    page = Paginator(notification_list(user=request.user, unread_only=unread_only), 30).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "notifications/list.html",
        {"page": page, "unread_only": unread_only, "query": "unread=1" if unread_only else ""},
    )


@login_required
@require_POST
def notification_mark_read(request: HttpRequest) -> HttpResponse:
    assert isinstance(request.user, User)
    ids = [int(v) for v in request.POST.getlist("id") if v.isdigit()]
    notifications_mark_read(user=request.user, ids=ids or None)
    return redirect("notifications:list")


@login_required
@require_http_methods(["GET", "POST"])
def notification_settings(request: HttpRequest) -> HttpResponse:
    """How the member is e-mailed: right away, a daily digest, or never."""
    assert isinstance(request.user, User)
    current = notification_settings_get(user=request.user)
    if request.method == "POST":
        form = NotificationSettingsForm(request.POST)
        if form.is_valid():
            try:
                notification_settings_update(
                    user=request.user,
                    email_mode=form.cleaned_data["email_mode"],
                    digest_hour_utc=form.cleaned_data["digest_hour_utc"],
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                messages.success(request, _("Your notification settings are saved."))
                return redirect("notifications:settings")
    else:
        form = NotificationSettingsForm(
            initial={"email_mode": current.email_mode, "digest_hour_utc": current.digest_hour_utc}
        )
    status = 400 if form.errors else 200
    return render(request, "notifications/settings.html", {"form": form}, status=status)
