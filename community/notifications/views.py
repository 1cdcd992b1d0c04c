from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from community.models import User
from community.notifications.selectors import notification_list
from community.notifications.services import notifications_mark_read


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
