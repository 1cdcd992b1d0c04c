"""Every API error, whatever its status, comes in the one error format."""

from collections.abc import Callable
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from tests.api.helpers import assert_error
from tests.factories import UserFactory


def _anon() -> APIClient:
    return APIClient()


def _signed_in(profile: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(profile.user)
    return client


def _session(profile: Any) -> APIClient:
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(profile.user)
    return client


def _unverified_login(password: str) -> dict[str, str]:
    user = UserFactory(username="unconfirmed", verified=False)
    user.save()
    EmailAddress.objects.create(user=user, email=user.email, verified=False, primary=True)
    return {"login": "unconfirmed", "password": password}


# (status, code, field names or None for "no fields", request)
Case = tuple[int, str, set[str], Callable[[Any, str], Any]]
CASES: dict[str, Case] = {
    "400 member filter": (
        400, "invalid", {"level"}, lambda m, p: _anon().get("/api/v1/members/?level=9"),
    ),
    "400 skill filter": (
        400, "invalid", {"area"}, lambda m, p: _anon().get("/api/v1/catalogue/skills/?area=%20"),
    ),
    "400 profile edit": (
        400, "invalid", {"skills", "roles"},
        lambda m, p: _signed_in(m).patch(
            "/api/v1/me/", {"skills": [{"skill": "nope", "level": 7}], "roles": "mentor"}
        ),
    ),
    "400 non-JSON body": (
        400, "parse_error", set(),
        lambda m, p: _signed_in(m).generic(
            "PATCH", "/api/v1/me/", "{oops", content_type="application/json"
        ),
    ),
    "400 token request": (
        400, "invalid", {"password"},
        lambda m, p: _anon().post("/api/v1/auth/token/", {"login": "amina"}),
    ),
    "401 anonymous me": (
        401, "not_authenticated", set(), lambda m, p: _anon().get("/api/v1/me/"),
    ),
    "401 wrong password": (
        401, "authentication_failed", set(),
        lambda m, p: _anon().post("/api/v1/auth/token/", {"login": "amina", "password": "no"}),
    ),
    "403 unverified e-mail": (
        403, "permission_denied", set(),
        lambda m, p: _anon().post("/api/v1/auth/token/", _unverified_login(p)),
    ),
    "403 missing CSRF token": (
        403, "permission_denied", set(),
        lambda m, p: _session(m).patch("/api/v1/me/", {"headline": "x"}),
    ),
    "404 unknown member": (
        404, "not_found", set(), lambda m, p: _anon().get("/api/v1/members/ghost/"),
    ),
    "404 page past the end": (
        404, "not_found", set(), lambda m, p: _anon().get("/api/v1/members/?page=2"),
    ),
    "404 unknown path": (
        404, "not_found", set(), lambda m, p: _anon().get("/api/v1/no-such-thing/"),
    ),
    "405 PUT me": (
        405, "method_not_allowed", set(), lambda m, p: _signed_in(m).put("/api/v1/me/", {}),
    ),
    "405 DELETE me": (
        405, "method_not_allowed", set(), lambda m, p: _signed_in(m).delete("/api/v1/me/"),
    ),
    "405 POST catalogue": (
        405, "method_not_allowed", set(),
        lambda m, p: _anon().post("/api/v1/catalogue/areas/", {}),
    ),
    "405 GET token": (
        405, "method_not_allowed", set(), lambda m, p: _anon().get("/api/v1/auth/token/"),
    ),
    "415 form-encoded body": (
        415, "unsupported_media_type", set(),
        lambda m, p: _signed_in(m).patch(
            "/api/v1/me/", "headline=x", content_type="application/x-www-form-urlencoded"
        ),
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_error_responses_share_one_format(member, password, case) -> None:
    """Each kind of failure answers {"error": {"code", "message", "fields"}} and nothing else;
    input errors name the offending fields."""
    status, code, fields, request = CASES[case]
    assert_error(request(member, password), status, code, fields)


def test_throttled_response_is_in_error_format(db, monkeypatch) -> None:
    """A 429 is in the error format too, with code "throttled" and Retry-After."""
    rates = {"anon": "1/min", "user": "1000/min", "token": "1000/min"}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)
    client = APIClient(REMOTE_ADDR="192.0.2.99")
    assert client.get("/api/v1/catalogue/areas/").status_code == 200
    response = client.get("/api/v1/catalogue/areas/")
    assert_error(response, 429, "throttled", set())
    assert int(response["Retry-After"]) > 0


def test_validation_messages_explain_each_field(member) -> None:
    """Field messages say what is wrong, per field."""
    response = _signed_in(member).patch(
        "/api/v1/me/", {"display_name": "x" * 81, "languages": ["xx"]}
    )
    fields = assert_error(response, 400, "invalid", {"display_name", "languages"})["fields"]
    assert any("80" in message for message in fields["display_name"])
    assert any("xx" in message for message in fields["languages"])
