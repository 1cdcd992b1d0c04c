"""Show times in the viewer's zone: the member's profile zone, else the browser's."""

import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from community.models import Profile, time_zone_names

TZ_COOKIE = "hub_tz"


class MemberTimezoneMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        name = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            name = (
                Profile.objects.filter(user_id=user.pk).values_list("time_zone", flat=True).first()
            )
        if not name:
            name = request.COOKIES.get(TZ_COOKIE)
        if name and name in time_zone_names():
            timezone.activate(zoneinfo.ZoneInfo(name))
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
