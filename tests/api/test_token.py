"""Token auth: exchange a login and password for a token, use it, revoke it."""

import pytest
from allauth.account.models import EmailAddress
from rest_framework.authtoken.models import Token

from community.models import User
from tests.api.helpers import assert_error, token_client
from tests.factories import UserFactory, make_member

TOKEN_URL = "/api/v1/auth/token/"
ME_URL = "/api/v1/me/"


def _get_token(client, login: str, password: str) -> str:  # type: ignore[no-untyped-def]
    response = client.post(TOKEN_URL, {"login": login, "password": password})
    assert response.status_code == 200, response.content
    assert set(response.json()) == {"token"}
    return str(response.json()["token"])


@pytest.mark.parametrize("login", ["amina", "amina@example.org", "  AMINA@example.org  "])
def test_token_for_username_or_email(api_client, member, password, login) -> None:
    """A verified member gets a token by username or by e-mail address."""
    key = _get_token(api_client, login, password)
    assert len(key) == 40
    assert Token.objects.get(key=key).user == member.user


def test_token_is_stable_until_revoked(api_client, member, password) -> None:
    """Asking twice gives the same token, so other clients stay signed in."""
    assert _get_token(api_client, "amina", password) == _get_token(api_client, "amina", password)


def test_token_authenticates_me(api_client, member, password) -> None:
    """Authorization: Token <key> signs the request in as the token's owner."""
    client = token_client(_get_token(api_client, "amina", password))
    response = client.get(ME_URL)
    assert response.status_code == 200
    assert response.json()["email"] == "amina@example.org"


def test_token_requests_need_no_csrf_token(api_client, member, password) -> None:
    """A token-authenticated PATCH works even with CSRF checks enforced."""
    client = token_client(_get_token(api_client, "amina", password), enforce_csrf_checks=True)
    response = client.patch(ME_URL, {"headline": "Via token"})
    assert response.status_code == 200, response.content
    assert client.get(ME_URL).json()["headline"] == "Via token"


@pytest.mark.parametrize(
    ("login", "wrong_password"),
    [("amina", "not-the-password"), ("amina@example.org", "nope"), ("nobody", "whatever")],
)
def test_wrong_credentials_are_refused(api_client, member, login, wrong_password) -> None:
    """A wrong password or unknown login is a 401 in the error format, and no token."""
    response = api_client.post(TOKEN_URL, {"login": login, "password": wrong_password})
    error = assert_error(response, 401, "authentication_failed", set())
    assert error["message"] == "Wrong login or password."
    assert not Token.objects.exists()


def test_unknown_login_and_wrong_password_look_the_same(api_client, member) -> None:
    """An unknown login and a wrong password give the same answer, so logins leak nothing."""
    known = api_client.post(TOKEN_URL, {"login": "amina", "password": "wrong"})
    unknown = api_client.post(TOKEN_URL, {"login": "zed", "password": "wrong"})
    assert known.status_code == unknown.status_code == 401
    assert known.content == unknown.content


def test_deactivated_account_gets_no_token(api_client, member, password) -> None:
    """A deactivated account cannot get a token, even with the right password."""
    User.objects.filter(pk=member.user.pk).update(is_active=False)
    response = api_client.post(TOKEN_URL, {"login": "amina", "password": password})
    assert_error(response, 401, "authentication_failed")
    assert not Token.objects.exists()


def test_unverified_email_gets_403(api_client, db, password) -> None:
    """An account whose e-mail is not confirmed is told so (403) and gets no token."""
    user = UserFactory(username="fresh", verified=False)
    user.save()  # keep the password the factory set
    EmailAddress.objects.create(user=user, email=user.email, verified=False, primary=True)
    assert not EmailAddress.objects.filter(user__username="fresh", verified=True).exists()
    response = api_client.post(TOKEN_URL, {"login": "fresh", "password": password})
    error = assert_error(response, 403, "permission_denied", set())
    assert "e-mail" in error["message"]
    assert not Token.objects.exists()


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({}, {"login", "password"}),
        ({"login": "amina"}, {"password"}),
        ({"password": "x"}, {"login"}),
        ({"login": "", "password": ""}, {"login", "password"}),
        ({"login": "x" * 255, "password": "x"}, {"login"}),
        ({"login": ["amina"], "password": "x"}, {"login"}),
    ],
)
def test_token_request_validation(api_client, member, payload, fields) -> None:
    """A malformed token request is a 400 naming the missing or bad fields."""
    assert_error(api_client.post(TOKEN_URL, payload), 400, "invalid", fields)


def test_delete_revokes_the_token(api_client, member, password) -> None:
    """DELETE with the token revokes it: it stops working and a new one is issued next time."""
    key = _get_token(api_client, "amina", password)
    client = token_client(key)
    response = client.delete(TOKEN_URL)
    assert response.status_code == 204
    assert response.content == b""
    error = assert_error(client.get(ME_URL), 401, "authentication_failed", set())
    assert error["message"] == "Invalid token."
    assert_error(client.delete(TOKEN_URL), 401, "authentication_failed")
    assert _get_token(api_client, "amina", password) != key


def test_delete_only_revokes_your_own_token(api_client, member, other_member, password) -> None:
    """Revoking your token leaves other members' tokens working."""
    mine = token_client(_get_token(api_client, "amina", password))
    theirs = token_client(_get_token(api_client, "kwame", password))
    assert mine.delete(TOKEN_URL).status_code == 204
    assert theirs.get(ME_URL).json()["username"] == "kwame"


def test_delete_without_credentials_is_401(api_client, db) -> None:
    """Revoking without being signed in is a 401 in the error format."""
    response = api_client.delete(TOKEN_URL)
    assert_error(response, 401, "not_authenticated", set())
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("header", ["Token", "Token not-a-real-token", "Token a b", "Bearer xyz"])
def test_bad_authorization_header(api_client, member, header) -> None:
    """A malformed or unknown token is a 401 in the error format; other schemes are ignored."""
    api_client.credentials(HTTP_AUTHORIZATION=header)
    response = api_client.get(ME_URL)
    if header.startswith("Bearer"):
        assert_error(response, 401, "not_authenticated")
    else:
        assert_error(response, 401, "authentication_failed")


def test_token_of_deactivated_member_stops_working(api_client, member, password) -> None:
    """Deactivating an account makes its existing token useless."""
    client = token_client(_get_token(api_client, "amina", password))
    User.objects.filter(pk=member.user.pk).update(is_active=False)
    assert_error(client.get(ME_URL), 401, "authentication_failed")


def test_repeated_wrong_passwords_lock_out_in_error_format(api_client, member, password) -> None:
    """After too many wrong passwords the login is locked: 429 in the error format, no token."""
    statuses = []
    for _attempt in range(6):
        response = api_client.post(TOKEN_URL, {"login": "amina", "password": "wrong"})
        statuses.append(response.status_code)
        assert_error(response, response.status_code)
    assert statuses[0] == 401
    assert statuses[-1] == 429
    response = api_client.post(TOKEN_URL, {"login": "amina", "password": password})
    error = assert_error(response, 429, "throttled", set())
    assert int(response["Retry-After"]) > 0
    assert "Try again later" in error["message"]
    assert not Token.objects.exists()

    # Another member from elsewhere is not affected.
    make_member("zoe")
    other = type(api_client)(REMOTE_ADDR="198.51.100.9")
    assert _get_token(other, "zoe", password)
