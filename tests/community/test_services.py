"""community.services: creating and updating member profiles."""

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from community.models import Profile, Skill, User
from community.services import MAX_PROFILE_SKILLS, profile_create, profile_update
from tests.community.helpers import profile_snapshot
from tests.factories import UserFactory, make_member

pytestmark = pytest.mark.django_db


def new_user(username: str) -> User:
    user = UserFactory(username=username)
    assert isinstance(user, User)
    return user


# --- profile_create -----------------------------------------------------------------------
def test_profile_create_uses_given_name_zone_and_roles() -> None:
    """A new profile carries the display name, time zone and roles it was created with."""
    user = new_user("ngozi")
    profile = profile_create(
        user=user, display_name="  Ngozi Eze  ", time_zone="Africa/Lagos",
        roles=["professional", "mentor"],
    )  # fmt: skip
    stored = Profile.objects.get(pk=user.pk)
    assert stored.pk == profile.pk
    assert stored.display_name == "Ngozi Eze"
    assert stored.time_zone == "Africa/Lagos"
    assert sorted(stored.roles) == ["mentor", "professional"]
    assert stored.visibility == "public"


def test_profile_create_defaults_display_name_to_username_and_role_to_learner() -> None:
    """Without a display name the username is shown; without roles the member is a learner."""
    user = new_user("tunde_a")
    profile_create(user=user)
    stored = Profile.objects.get(pk=user.pk)
    assert stored.display_name == "tunde_a"
    assert stored.roles == ["learner"]
    assert stored.time_zone == "UTC"


def test_profile_create_is_idempotent() -> None:
    """Creating a profile twice keeps the first one and its values, and makes no second row."""
    user = new_user("priya")
    first = profile_create(user=user, display_name="Priya S", time_zone="Asia/Kolkata")
    second = profile_create(user=user, display_name="Someone Else", time_zone="UTC", roles=[])
    assert second.pk == first.pk
    assert Profile.objects.filter(user=user).count() == 1
    stored = Profile.objects.get(pk=user.pk)
    assert stored.display_name == "Priya S"
    assert stored.time_zone == "Asia/Kolkata"
    assert stored.roles == ["learner"]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"roles": ["learner", "wizard"]}, "roles"),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
    ],
)
def test_profile_create_refuses_bad_input(kwargs: dict[str, Any], field: str) -> None:
    """An unknown role or time zone is refused and no profile is made."""
    user = new_user("bad_create")
    with pytest.raises(ValidationError) as exc:
        profile_create(user=user, display_name="Bad", **kwargs)
    assert field in exc.value.message_dict
    assert not Profile.objects.filter(user=user).exists()


# --- profile_update: every field -----------------------------------------------------------
def test_profile_update_text_fields_are_saved_stripped() -> None:
    """Display name, headline and organisation are saved, trimmed of surrounding spaces."""
    profile = make_member("amaka")
    profile_update(
        actor=profile.user, profile=profile,
        data={"display_name": " Amaka Obi ", "headline": "  QC analyst  ",
              "organisation": " Lagos Vaccines "},
    )  # fmt: skip
    snap = profile_snapshot(profile.pk)
    assert snap["display_name"] == "Amaka Obi"
    assert snap["headline"] == "QC analyst"
    assert snap["organisation"] == "Lagos Vaccines"


def test_profile_update_country_and_time_zone() -> None:
    """Country (ISO code) and time zone are saved; the country has its English name."""
    profile = make_member("kofi")
    profile_update(
        actor=profile.user, profile=profile, data={"country": "GH", "time_zone": "Africa/Accra"}
    )
    stored = Profile.objects.get(pk=profile.pk)
    assert stored.country.code == "GH"
    assert stored.country.name == "Ghana"
    assert stored.time_zone == "Africa/Accra"
    profile_update(actor=profile.user, profile=stored, data={"country": ""})
    assert profile_snapshot(profile.pk)["country"] == ""


def test_profile_update_visibility() -> None:
    """Visibility switches between public and members-only and back."""
    profile = make_member("lin")
    profile_update(actor=profile.user, profile=profile, data={"visibility": "members"})
    assert profile_snapshot(profile.pk)["visibility"] == "members"
    profile_update(actor=profile.user, profile=profile, data={"visibility": "public"})
    assert profile_snapshot(profile.pk)["visibility"] == "public"


def test_profile_update_roles_replace_the_old_ones() -> None:
    """The roles given replace the member's roles entirely; an empty list clears them."""
    profile = make_member("rosa", roles=("learner",))
    profile_update(
        actor=profile.user, profile=profile, data={"roles": ["mentor", "facilitator", "mentor"]}
    )
    assert profile_snapshot(profile.pk)["roles"] == ["facilitator", "mentor"]
    profile_update(actor=profile.user, profile=profile, data={"roles": []})
    assert profile_snapshot(profile.pk)["roles"] == []


def test_profile_update_languages_are_added_and_removed() -> None:
    """Languages given replace the old set: new ones added, missing ones removed, no repeats."""
    profile = make_member("sipho")
    profile_update(actor=profile.user, profile=profile, data={"languages": ["en", "zu", "en"]})
    assert profile_snapshot(profile.pk)["languages"] == ["en", "zu"]
    profile_update(actor=profile.user, profile=profile, data={"languages": ["zu", "fr"]})
    assert profile_snapshot(profile.pk)["languages"] == ["fr", "zu"]
    profile_update(actor=profile.user, profile=profile, data={"languages": []})
    assert profile_snapshot(profile.pk)["languages"] == []


def test_profile_update_skills_add_change_level_and_remove(skills: list[Skill]) -> None:
    """Skills are added with their level, re-levelled, and dropped when left out."""
    a, b, c = (s.slug for s in skills[:3])
    profile = make_member("mei")
    profile_update(actor=profile.user, profile=profile, data={"skills": {a: 1, b: 2}})
    assert profile_snapshot(profile.pk)["skills"] == {a: 1, b: 2}
    profile_update(actor=profile.user, profile=profile, data={"skills": {a: 4, b: 2, c: 3}})
    assert profile_snapshot(profile.pk)["skills"] == {a: 4, b: 2, c: 3}
    profile_update(actor=profile.user, profile=profile, data={"skills": {c: 3}})
    assert profile_snapshot(profile.pk)["skills"] == {c: 3}
    profile_update(actor=profile.user, profile=profile, data={"skills": {}})
    assert profile_snapshot(profile.pk)["skills"] == {}


def test_profile_update_bio_is_rendered_to_safe_html() -> None:
    """The bio's Markdown is rendered into bio_html; raw HTML in it is escaped."""
    profile = make_member("ana")
    profile_update(
        actor=profile.user, profile=profile,
        data={"bio": "I work on **perfusion**.\n\n<script>alert(1)</script>"},
    )  # fmt: skip
    snap = profile_snapshot(profile.pk)
    assert "<strong>perfusion</strong>" in snap["bio_html"]
    assert "<script" not in snap["bio_html"]
    assert "&lt;script&gt;" in snap["bio_html"]
    profile_update(actor=profile.user, profile=profile, data={"bio": ""})
    assert profile_snapshot(profile.pk)["bio_html"] == ""


def test_profile_update_leaves_fields_not_given_alone(skills: list[Skill]) -> None:
    """A partial update changes only the fields it names."""
    profile = make_member(
        "omar", display_name="Omar F", headline="Engineer", country="EG",
        languages=["ar", "en"], skills={skills[0].slug: 3}, bio="*hi*",
    )  # fmt: skip
    before = profile_snapshot(profile.pk)
    profile_update(actor=profile.user, profile=profile, data={"headline": "Senior engineer"})
    after = profile_snapshot(profile.pk)
    assert after == {**before, "headline": "Senior engineer"}


# --- profile_update: bad input changes nothing ---------------------------------------------
def _valid_changes(skills: list[Skill]) -> dict[str, Any]:
    """A set of valid changes to every field: a bad value is swapped in for one of them."""
    return {
        "display_name": "Changed Name",
        "headline": "Changed headline",
        "organisation": "Changed org",
        "country": "GH",
        "time_zone": "Africa/Accra",
        "bio": "**changed**",
        "visibility": "members",
        "roles": ["mentor"],
        "languages": ["fr"],
        "skills": {skills[1].slug: 4},
    }


BAD_INPUT: list[tuple[str, str, Any]] = [
    ("unknown skill", "skills", {"no-such-skill": 2}),
    ("skill level 0", "skills", {"SKILL0": 0}),
    ("skill level 5", "skills", {"SKILL0": 5}),
    ("unknown language", "languages", ["en", "xx"]),
    ("too many languages", "languages", ["am", "ar", "bn", "de", "en", "es", "fa", "fr",
                                         "ha", "hi", "id"]),
    ("unknown role", "roles", ["mentor", "overlord"]),
    ("bad time zone", "time_zone", "Europe/Atlantis"),
    ("empty display name", "display_name", ""),
    ("blank display name", "display_name", "   "),
    ("too many skills", "skills", "MANY"),
    ("bad visibility", "visibility", "everyone"),
    ("unknown country", "country", "ZZ"),
    ("headline too long", "headline", "h" * 141),
]  # fmt: skip


@pytest.mark.parametrize(("field", "bad"), [(f, b) for _, f, b in BAD_INPUT],
                         ids=[name for name, _, _ in BAD_INPUT])  # fmt: skip
def test_profile_update_bad_input_raises_and_changes_nothing(
    skills: list[Skill], field: str, bad: Any
) -> None:
    """Each kind of bad input raises ValidationError naming the field; nothing is saved."""
    profile = make_member(
        "stable", display_name="Stable Name", headline="Old headline", organisation="Old org",
        country="KE", time_zone="Africa/Nairobi", bio="old *bio*", roles=("learner",),
        languages=["en", "sw"], skills={skills[0].slug: 2},
    )  # fmt: skip
    before = profile_snapshot(profile.pk)
    if bad == "MANY":
        bad = {s.slug: 2 for s in Skill.objects.filter(is_active=True)[: MAX_PROFILE_SKILLS + 1]}
        assert len(bad) == MAX_PROFILE_SKILLS + 1
    elif isinstance(bad, dict) and "SKILL0" in bad:
        bad = {skills[0].slug: bad["SKILL0"]}
    data = {**_valid_changes(skills), field: bad}
    with pytest.raises(ValidationError) as exc:
        profile_update(actor=profile.user, profile=profile, data=data)
    assert field in exc.value.message_dict
    assert profile_snapshot(profile.pk) == before


def test_profile_update_accepts_the_maximum_number_of_skills() -> None:
    """Exactly the maximum number of skills is allowed (the limit is not off by one)."""
    profile = make_member("collector")
    chosen = {s.slug: 1 for s in Skill.objects.filter(is_active=True)[:MAX_PROFILE_SKILLS]}
    profile_update(actor=profile.user, profile=profile, data={"skills": chosen})
    assert profile_snapshot(profile.pk)["skills"] == chosen


def test_profile_update_refuses_an_inactive_skill(skills: list[Skill]) -> None:
    """A skill retired from the catalogue cannot be added to a profile."""
    retired = skills[2]
    Skill.objects.filter(pk=retired.pk).update(is_active=False)
    profile = make_member("late")
    with pytest.raises(ValidationError):
        profile_update(actor=profile.user, profile=profile, data={"skills": {retired.slug: 2}})
    assert profile_snapshot(profile.pk)["skills"] == {}


def test_member_cannot_update_another_members_profile(skills: list[Skill]) -> None:
    """Updating someone else's profile is refused with PermissionDenied and changes nothing."""
    mine = make_member("amina_x", display_name="Amina")
    theirs = make_member("kwame_x", display_name="Kwame", headline="Mentor")
    before = profile_snapshot(theirs.pk)
    with pytest.raises(PermissionDenied):
        profile_update(actor=mine.user, profile=theirs, data=_valid_changes(skills))
    assert profile_snapshot(theirs.pk) == before
