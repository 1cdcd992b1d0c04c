"""Rate limits: past the rate the API answers 429 "throttled" with a Retry-After header."""

import pytest
from django.test import override_settings
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from tests.api.helpers import assert_error, token_client

RATES = {"anon": "3/min", "user": "5/min", "token": "2/min"}


@pytest.fixture
def low_rates(monkeypatch, settings):  # type: ignore[no-untyped-def]
    """Lower the API rates for one test.

    DRF reads ``DEFAULT_THROTTLE_RATES`` once, into ``SimpleRateThrottle.THROTTLE_RATES``,
    when rest_framework.throttling is imported, so overriding the setting alone changes
    nothing; the class attribute is what the throttles consult.
    """
    rest = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": RATES}
    with override_settings(REST_FRAMEWORK=rest):
        monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", RATES)
        yield RATES


def _client(address: str) -> APIClient:
    # A documentation address of our own, so that no other test's requests share the budget.
    return APIClient(REMOTE_ADDR=address)


def _assert_throttled(response) -> None:  # type: ignore[no-untyped-def]
    error = assert_error(response, 429, "throttled", set())
    assert error["message"]
    retry_after = int(response["Retry-After"])
    assert 0 < retry_after <= 60


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/catalogue/areas/",
        "/api/v1/catalogue/skills/",
        "/api/v1/members/",
        "/api/v1/members/nobody/",
        "/api/v1/schema/?format=json",
    ],
)
def test_anonymous_requests_beyond_the_rate_get_429(low_rates, url) -> None:
    """An anonymous client past 3 requests a minute gets 429 with Retry-After."""
    client = _client("192.0.2.11")
    for _n in range(3):
        assert client.get(url).status_code in {200, 404}
    _assert_throttled(client.get(url))
    _assert_throttled(client.get("/api/v1/catalogue/areas/"))  # the budget is shared


@pytest.mark.django_db
def test_anonymous_budget_is_per_address(low_rates) -> None:
    """One address using up its budget does not throttle another address."""
    first, second = _client("192.0.2.21"), _client("192.0.2.22")
    for _n in range(3):
        first.get("/api/v1/catalogue/areas/")
    _assert_throttled(first.get("/api/v1/catalogue/areas/"))
    assert second.get("/api/v1/catalogue/areas/").status_code == 200


def test_members_get_the_user_rate(low_rates, member, other_member) -> None:
    """A signed-in member gets the user rate (5), not the anonymous one, per member."""
    client = _client("192.0.2.31")
    client.force_authenticate(member.user)
    for _n in range(5):
        assert client.get("/api/v1/me/").status_code == 200
    _assert_throttled(client.get("/api/v1/me/"))
    _assert_throttled(client.patch("/api/v1/me/", {"headline": "too many"}))
    member.refresh_from_db()
    assert member.headline == ""

    other = _client("192.0.2.31")  # same address, another member
    other.force_authenticate(other_member.user)
    assert other.get("/api/v1/me/").status_code == 200


def test_token_requests_are_counted_per_user(low_rates, member, password) -> None:
    """Token-authenticated requests share the member's user budget, from any address."""
    response = _client("192.0.2.41").post(
        "/api/v1/auth/token/", {"login": "amina", "password": password}
    )
    key = response.json()["token"]
    first = token_client(key)
    first.defaults["REMOTE_ADDR"] = "192.0.2.42"
    second = token_client(key)
    second.defaults["REMOTE_ADDR"] = "192.0.2.43"
    for client in (first, second, first, second, first):
        assert client.get("/api/v1/me/").status_code == 200
    _assert_throttled(second.get("/api/v1/me/"))


def test_token_endpoint_has_its_own_tighter_rate(low_rates, member, password) -> None:
    """Asking for tokens is limited to 2 a minute, apart from the general budget."""
    client = _client("192.0.2.51")
    for _n in range(2):
        response = client.post("/api/v1/auth/token/", {"login": "amina", "password": password})
        assert response.status_code == 200
    _assert_throttled(client.post("/api/v1/auth/token/", {"login": "amina", "password": password}))
    assert client.get("/api/v1/catalogue/areas/").status_code == 200
