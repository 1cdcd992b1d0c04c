"""Show times in the viewer's zone: the member's profile zone, else the browser's.

The middleware runs before DRF authenticates API tokens, so token requests get their
member's zone from ``community.api.authentication.MemberTokenAuthentication``, through
the same two functions.
"""

import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from community.models import Profile, User, time_zone_names

TZ_COOKIE = "hub_tz"


def member_time_zone(user: User) -> str | None:
    """The zone on the member's profile, if they have a profile. The session's member
    comes with their profile (``community.accounts.MemberBackend``), so this costs no
    query; a member loaded otherwise (API tokens) costs one, and keeps the profile."""
    try:
        return user.profile.time_zone
    except Profile.DoesNotExist:
        return None


def activate_time_zone(name: str | None) -> bool:
    """Show times in ``name`` for the rest of this request if it is a known zone; say
    whether it was."""
    if name and name in time_zone_names():
        timezone.activate(zoneinfo.ZoneInfo(name))
        return True
    return False


class MemberTimezoneMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        name = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            name = member_time_zone(user)
        if not name:
            name = request.COOKIES.get(TZ_COOKIE)
        if not activate_time_zone(name):
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
