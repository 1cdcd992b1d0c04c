"""The seed_demo command: a realistic demo community, safe to run again."""

from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command
from django.db import transaction
from django.db.models import QuerySet
from django.test import Client, RequestFactory

from community.management.commands.seed_demo import (
    ADMIN_USERNAME,
    DEMO_DOMAIN,
    DEMO_PASSWORD,
    MODERATOR_USERNAME,
)
from community.models import Profile, ProfileSkill, User

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", quiet=True, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def seeded(django_db_setup: None, django_db_blocker: Any) -> Iterator[str]:
    """The demo community, seeded once for this module and rolled back after it."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield seed()
        transaction.set_rollback(True)


def demo_profiles() -> QuerySet[Profile]:
    return Profile.objects.filter(user__email__endswith="@" + DEMO_DOMAIN)


def test_seed_demo_creates_a_varied_community(seeded: str) -> None:
    """50+ members across 15+ countries, with skills, roles and languages."""
    profiles = demo_profiles()
    assert profiles.count() >= 50
    countries = set(profiles.exclude(country="").values_list("country", flat=True))
    assert len(countries) >= 15
    with_skills = profiles.filter(skill_levels__isnull=False).distinct().count()
    assert with_skills >= 50
    assert ProfileSkill.objects.filter(profile__in=profiles).count() >= 150
    for field in ("is_learner", "is_professional", "is_mentor", "is_facilitator"):
        assert profiles.filter(**{field: True}).exists(), field
    assert profiles.filter(languages__isnull=False).distinct().count() == profiles.count()
    assert profiles.filter(visibility="members").exists()
    assert profiles.exclude(bio_html="").exists()
    assert "created" in seeded


def test_seed_demo_emails_are_verified(seeded: str) -> None:
    """Every demo account has its e-mail address verified and primary."""
    users = User.objects.filter(email__endswith="@" + DEMO_DOMAIN)
    assert users.count() >= 50
    for user in users:
        address = EmailAddress.objects.get(user=user)
        assert address.email == user.email
        assert address.verified
        assert address.primary


def test_seed_demo_makes_staff_and_moderator(seeded: str) -> None:
    """The demo has one staff admin and a moderator in the Moderators group."""
    admin = User.objects.get(username=ADMIN_USERNAME)
    assert admin.is_staff
    assert admin.is_superuser
    moderator = User.objects.get(username=MODERATOR_USERNAME)
    assert moderator.has_perm("community.moderate_community")
    assert not moderator.is_staff
    assert not User.objects.filter(is_staff=True).exclude(username=ADMIN_USERNAME).exists()


def test_seed_demo_twice_creates_nothing_new(seeded: str) -> None:
    """Running the command again adds no members, profiles, skills or addresses."""
    before = (
        User.objects.count(),
        Profile.objects.count(),
        ProfileSkill.objects.count(),
        EmailAddress.objects.count(),
    )
    output = seed()
    after = (
        User.objects.count(),
        Profile.objects.count(),
        ProfileSkill.objects.count(),
        EmailAddress.objects.count(),
    )
    assert after == before
    assert "0 members created" in output


def test_seed_demo_keeps_a_demo_members_own_edits(seeded: str) -> None:
    """A second run leaves an existing demo member's changed profile as it is."""
    Profile.objects.filter(user__username="otieno_brian").update(headline="My own words")
    seed()
    assert Profile.objects.get(user__username="otieno_brian").headline == "My own words"


@pytest.mark.parametrize(
    "username", ["otieno_brian", "adaeze.okafor", "achieng.odhiambo", MODERATOR_USERNAME]
)
def test_demo_members_can_log_in_with_the_demo_password(
    seeded: str, client: Client, username: str
) -> None:
    """Demo members log in with the shared demo password, and not with a wrong one."""
    # django-axes wants the request passed to authenticate().
    request = RequestFactory().post("/accounts/login/")
    assert not client.login(request=request, username=username, password="wrong-password")
    assert client.login(request=request, username=username, password=DEMO_PASSWORD)
    html = client.get("/").content.decode()
    assert f'data-member="{username}"' in html


def test_demo_member_logs_in_through_the_login_page(seeded: str, client: Client) -> None:
    """The demo password works on the real log-in form too."""
    response = client.post(
        "/accounts/login/", {"login": "wanjiru.kamau", "password": DEMO_PASSWORD}
    )
    assert response.status_code == 302
    assert client.get("/settings/profile/").status_code == 200
