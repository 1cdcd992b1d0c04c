"""Accounts through django-allauth: sign-up, confirmation, log-in, passwords, lockout."""

import re
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client

from community.models import Profile, User

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Plasmid-Harvest-2026!"
LINK = re.compile(r"https?://testserver(/accounts/[^\s]+)")


def signed_in_as(client: Client) -> str | None:
    """The username the client is logged in as, judged from a page it gets."""
    match = re.search(r'data-member="([^"]+)"', client.get("/").content.decode())
    return match.group(1) if match else None


def link_in_last_mail(to: str) -> str:
    message = mail.outbox[-1]
    assert message.to == [to]
    match = LINK.search(str(message.body))
    assert match, message.body
    return match.group(1)


def log_in(client: Client, login: str, password: str) -> Any:
    return client.post("/accounts/login/", {"login": login, "password": password})


SIGNUP = {
    "email": "zainab@example.org",
    "username": "zainab",
    "password1": NEW_PASSWORD,
    "password2": NEW_PASSWORD,
    "display_name": "Zainab Musa",
    "time_zone": "Africa/Lagos",
}


# --- sign-up and confirmation ----------------------------------------------------------------
def test_signup_creates_account_and_profile_and_sends_confirmation(client: Client) -> None:
    """Signing up makes the account and its profile (name, zone) and e-mails a confirmation."""
    response = client.post("/accounts/signup/", SIGNUP)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    user = User.objects.get(username="zainab")
    assert user.email == "zainab@example.org"
    profile = Profile.objects.get(user=user)
    assert profile.display_name == "Zainab Musa"
    assert profile.time_zone == "Africa/Lagos"
    assert profile.roles == ["learner"]
    assert not EmailAddress.objects.get(user=user).verified
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject.startswith("[Workforce Hub] ")
    assert "/accounts/confirm-email/" in link_in_last_mail("zainab@example.org")
    assert signed_in_as(client) is None


def test_unconfirmed_account_cannot_log_in_until_confirmed(client: Client) -> None:
    """Before confirming, log-in is refused; after GET (a page) then POST on the link, it works."""
    client.post("/accounts/signup/", SIGNUP)
    link = link_in_last_mail("zainab@example.org")
    browser = Client()
    response = log_in(browser, "zainab@example.org", NEW_PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert signed_in_as(browser) is None
    assert browser.get("/settings/profile/").status_code == 302

    page = browser.get(link)
    assert page.status_code == 200
    assert "zainab@example.org" in page.content.decode()
    assert not EmailAddress.objects.get(email="zainab@example.org").verified  # GET alone
    response = browser.post(link)
    assert response.status_code == 302
    assert EmailAddress.objects.get(email="zainab@example.org").verified

    fresh = Client()
    response = log_in(fresh, "zainab", NEW_PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert signed_in_as(fresh) == "zainab"


def test_confirmation_link_that_is_wrong_confirms_nothing(client: Client) -> None:
    """A made-up confirmation key is refused and the address stays unverified."""
    client.post("/accounts/signup/", SIGNUP)
    response = client.post("/accounts/confirm-email/not-a-real-key/")
    assert response.status_code in {200, 404}
    assert not EmailAddress.objects.get(email="zainab@example.org").verified


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"username": "amina"}, "username"),
        ({"username": "AMINA"}, "username"),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({"display_name": ""}, "display_name"),
        ({"username": "admin"}, "username"),
        ({"password2": "Something-Else-99"}, "password2"),
    ],
)
def test_signup_refuses_bad_or_duplicate_details(
    client: Client, member: Profile, changes: dict[str, str], field: str
) -> None:
    """A taken e-mail or username (any case), a bad zone or name is refused; no account made."""
    users = User.objects.count()
    response = client.post("/accounts/signup/", {**SIGNUP, **changes})
    assert response.status_code == 200
    assert response.context["form"].errors.get(field), response.context["form"].errors
    assert 'class="errorlist' in response.content.decode()
    assert User.objects.count() == users
    assert mail.outbox == []


@pytest.mark.parametrize("email", ["amina@example.org", "AMINA@Example.org"])
def test_signup_with_a_taken_email_makes_no_account(
    client: Client, member: Profile, email: str
) -> None:
    """A taken e-mail (any case) makes no account; its owner is told, and nobody learns more."""
    users = User.objects.count()
    response = client.post("/accounts/signup/", {**SIGNUP, "email": email})
    # The same answer as a real sign-up, so the form does not reveal who is a member.
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert User.objects.count() == users
    assert not User.objects.filter(username="zainab").exists()
    assert [m.to for m in mail.outbox] == [["amina@example.org"]]
    assert "already exists" in mail.outbox[0].subject.lower()
    assert "/accounts/confirm-email/" not in mail.outbox[0].body
    assert signed_in_as(client) is None


# --- log in and out --------------------------------------------------------------------------
@pytest.mark.parametrize("login", ["amina@example.org", "amina", "AMINA@example.org"])
def test_log_in_with_email_or_username(
    client: Client, member: Profile, password: str, login: str
) -> None:
    """A confirmed member logs in with their e-mail address or their username."""
    response = log_in(client, login, password)
    assert response.status_code == 302
    assert signed_in_as(client) == "amina"


def test_wrong_password_is_refused(client: Client, member: Profile) -> None:
    """A wrong password shows the form again with an error and logs nobody in."""
    response = log_in(client, "amina", "not-the-password")
    assert response.status_code == 200
    assert "not correct" in response.content.decode()
    assert signed_in_as(client) is None


def test_log_out(client: Client, member: Profile, password: str) -> None:
    """Posting to /accounts/logout/ ends the session."""
    log_in(client, "amina", password)
    assert signed_in_as(client) == "amina"
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert signed_in_as(client) is None
    assert client.get("/settings/profile/").status_code == 302


# --- passwords -------------------------------------------------------------------------------
def test_password_change(client: Client, member: Profile, password: str) -> None:
    """A member changes their password; the new one works and the old one no longer does."""
    log_in(client, "amina", password)
    response = client.post(
        "/accounts/password/change/",
        {"oldpassword": password, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    client.post("/accounts/logout/")
    assert log_in(client, "amina", password).status_code == 200
    assert signed_in_as(client) is None
    assert log_in(client, "amina", NEW_PASSWORD).status_code == 302
    assert signed_in_as(client) == "amina"


def test_password_change_needs_the_old_password(
    client: Client, member: Profile, password: str
) -> None:
    """A wrong current password refuses the change."""
    log_in(client, "amina", password)
    response = client.post(
        "/accounts/password/change/",
        {"oldpassword": "guess", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 200
    member.user.refresh_from_db()
    assert member.user.check_password(password)


def test_password_reset_by_email(client: Client, member: Profile, password: str) -> None:
    """Reset: request, follow the e-mailed link, set a new password, log in with it."""
    response = client.post("/accounts/password/reset/", {"email": "amina@example.org"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = link_in_last_mail("amina@example.org")
    assert "/accounts/password/reset/key/" in link
    response = client.get(link)
    if response.status_code == 302:  # allauth moves the key into the session
        link = response["Location"]
        response = client.get(link)
    assert response.status_code == 200
    response = client.post(link, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    browser = Client()
    assert log_in(browser, "amina", password).status_code == 200
    assert log_in(browser, "amina@example.org", NEW_PASSWORD).status_code == 302
    assert signed_in_as(browser) == "amina"
    # The link is single-use.
    first_link = LINK.search(str(mail.outbox[0].body))
    assert first_link
    again = Client().get(first_link.group(1))
    follow = Client().get(again["Location"]) if again.status_code == 302 else again
    assert "password1" not in follow.content.decode()


def test_password_reset_for_unknown_address_sends_no_link(client: Client, member: Profile) -> None:
    """Asking to reset an address with no account sends no reset link."""
    client.post("/accounts/password/reset/", {"email": "stranger@example.org"})
    assert not any("/accounts/password/reset/key/" in m.body for m in mail.outbox)


# --- lockout (django-axes) -------------------------------------------------------------------
def test_lockout_after_five_wrong_passwords(
    client: Client, member: Profile, other_member: Profile, password: str
) -> None:
    """After 5 wrong passwords the 6th try is refused even if right; other accounts still work."""
    for _ in range(4):
        response = log_in(client, "amina", "wrong-password")
        assert response.status_code == 200
        assert "not correct" in response.content.decode()
    # The fifth failure locks the account at once.
    response = log_in(client, "amina", "wrong-password")
    assert "Too many failed log-in attempts" in response.content.decode()
    response = log_in(client, "amina", password)
    assert response.status_code in {403, 429}
    assert "Too many failed log-in attempts" in response.content.decode()
    assert signed_in_as(client) is None
    # The same account is locked by its e-mail address too.
    response = log_in(Client(), "amina@example.org", password)
    assert "Too many failed log-in attempts" in response.content.decode()
    # Another member, from the same address, is unaffected.
    other = Client()
    response = log_in(other, "kwame", password)
    assert response.status_code == 302
    assert signed_in_as(other) == "kwame"
