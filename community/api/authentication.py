"""API authentication that also shows times in the member's own time zone."""

from typing import Any

from rest_framework.authentication import TokenAuthentication
from rest_framework.request import Request

from community.middleware import activate_time_zone, member_time_zone


class MemberTokenAuthentication(TokenAuthentication):
    """``Authorization: Token <key>``, as DRF's; a request it authenticates shows times
    in the member's profile zone, as a signed-in page does.

    ``MemberTimezoneMiddleware`` has run before DRF reads the token and saw no member;
    it still deactivates the zone when the response is done. A member without a known
    zone keeps what the middleware chose (the browser's zone cookie, else UTC).
    """

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        result = super().authenticate(request)
        if result is not None:
            activate_time_zone(member_time_zone(result[0]))
        return result
