"""API responses show times in the member's own zone whether the request is signed in
by session or by token (the zone middleware runs before DRF reads the token)."""

import datetime as dt

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from community.models import Profile
from tests.api.helpers import token_client
from tests.factories import make_member

ME_URL = "/api/v1/me/"
KOLKATA = dt.timedelta(hours=5, minutes=30)


@pytest.fixture
def priya(db: None) -> Profile:
    return make_member("priya", time_zone="Asia/Kolkata")


def _joined(response) -> dt.datetime:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.content[:500]
    return dt.datetime.fromisoformat(response.json()["joined"])


def test_token_requests_show_times_in_the_members_zone(priya: Profile) -> None:
    """With a token, "joined" is in Asia/Kolkata (+05:30), as with a session."""
    key = Token.objects.create(user=priya.user).key
    by_token = _joined(token_client(key).get(ME_URL))
    session = APIClient()
    session.force_login(priya.user)
    by_session = _joined(session.get(ME_URL))

    assert by_token.utcoffset() == KOLKATA
    assert by_token == priya.created_at
    assert by_token.isoformat() == by_session.isoformat()


def test_the_zone_ends_with_the_token_request(priya: Profile, api_client: APIClient) -> None:
    """The next request, anonymous, is back in UTC: the zone does not leak."""
    key = Token.objects.create(user=priya.user).key
    assert _joined(token_client(key).get(ME_URL)).utcoffset() == KOLKATA
    anonymous = _joined(api_client.get("/api/v1/members/priya/"))
    assert anonymous.utcoffset() == dt.timedelta(0)
    assert anonymous == priya.created_at


def test_a_token_member_in_utc_gets_utc(db: None) -> None:
    """A member whose zone is UTC sees UTC times through a token."""
    member = make_member("kwabena", time_zone="UTC")
    key = Token.objects.create(user=member.user).key
    assert _joined(token_client(key).get(ME_URL)).utcoffset() == dt.timedelta(0)
