"""The member directory and member profiles: filters, visibility, and leak-free 404s."""

import pytest

from tests.api.helpers import assert_error, usernames
from tests.factories import make_member

MEMBERS_URL = "/api/v1/members/"


@pytest.fixture
def directory(db, skills):  # type: ignore[no-untyped-def]
    """A small directory with distinct countries, languages, roles, skills and visibility."""
    chroma, ferment, gmp = (s.slug for s in skills)
    return {
        "ada": make_member(
            "ada", display_name="Ada Eze", roles=("learner",), country="NG",
            languages=["en", "ig"], skills={chroma: 1, ferment: 3},
            headline="Downstream trainee", organisation="Lagos BioWorks",
        ),
        "bruno": make_member(
            "bruno", display_name="Bruno Silva", roles=("professional", "mentor"), country="BR",
            languages=["pt", "en"], skills={chroma: 4}, headline="Purification lead",
            organisation="Vacinas SA",
        ),
        "chen": make_member(
            "chen", display_name="Chen Wei", roles=("facilitator",), country="SG",
            languages=["zh"], skills={gmp: 2}, organisation="Lagos Pharma",
        ),
        "dina": make_member(
            "dina", display_name="Dina Haddad", roles=("mentor",), country="NG",
            languages=["ar", "en"], skills={chroma: 3}, visibility="members",
            headline="QC analyst",
        ),
    }  # fmt: skip


def _deactivate(username: str) -> None:
    from community.models import User

    User.objects.filter(username=username).update(is_active=False)


def test_list_shows_public_profiles_to_anonymous_visitors(api_client, directory) -> None:
    """Anonymous visitors see public profiles only, ordered by display name."""
    response = api_client.get(MEMBERS_URL)
    assert usernames(response) == ["ada", "bruno", "chen"]
    data = response.json()
    assert data["count"] == 3
    assert data["next"] is None
    assert data["previous"] is None


def test_list_shows_members_only_profiles_to_signed_in_members(member_api, directory) -> None:
    """Signed-in members also see members-only profiles (and their own)."""
    assert usernames(member_api.get(MEMBERS_URL)) == ["ada", "amina", "bruno", "chen", "dina"]


def test_list_never_shows_deactivated_members(member_api, api_client, directory) -> None:
    """A deactivated account disappears from the directory for everyone."""
    _deactivate("bruno")
    _deactivate("dina")
    assert usernames(api_client.get(MEMBERS_URL)) == ["ada", "amina", "chen"]
    assert usernames(member_api.get(MEMBERS_URL)) == ["ada", "amina", "chen"]


def test_list_items_carry_the_public_card_and_no_private_data(api_client, directory) -> None:
    """Each item shows the card fields with skills and languages, never e-mail or visibility."""
    item = api_client.get(MEMBERS_URL).json()["results"][0]
    assert item == {
        "username": "ada",
        "display_name": "Ada Eze",
        "headline": "Downstream trainee",
        "organisation": "Lagos BioWorks",
        "country": "NG",
        "country_name": "Nigeria",
        "roles": ["learner"],
        "languages": ["en", "ig"],
        "skills": [
            {
                "skill": "api-test-fermentation",
                "name": "API fermentation",
                "level": 3,
                "level_label": "Advanced",
            },
            {
                "skill": "api-test-chromatography",
                "name": "API chromatography",
                "level": 1,
                "level_label": "Awareness",
            },
        ],
    }


FILTER_CASES = [
    ({"q": "bruno"}, ["bruno"]),  # username
    ({"q": "haddad"}, ["dina"]),  # display name, any case
    ({"q": "purification"}, ["bruno"]),  # headline
    ({"q": "lagos"}, ["ada", "chen"]),  # organisation
    ({"q": "lagos pharma"}, ["chen"]),  # every word must match
    ({"q": "nobody-like-this"}, []),
    ({"skill": "api-test-chromatography"}, ["ada", "bruno", "dina"]),
    ({"skill": "api-test-chromatography", "level": 3}, ["bruno", "dina"]),
    ({"skill": "api-test-chromatography", "level": 4}, ["bruno"]),
    ({"skill": "api-test-fermentation", "level": 4}, []),
    ({"skill": "no-such-skill"}, []),
    ({"country": "NG"}, ["ada", "dina"]),
    ({"country": "SG"}, ["chen"]),
    ({"country": "FR"}, []),
    ({"language": "en"}, ["ada", "bruno", "dina"]),
    ({"language": "zh"}, ["chen"]),
    ({"language": "fr"}, []),
    ({"role": "mentor"}, ["bruno", "dina"]),
    ({"role": "facilitator"}, ["chen"]),
    ({"role": "professional"}, ["bruno"]),
    ({"role": "learner"}, ["ada", "amina"]),
    ({"country": "NG", "language": "en", "role": "mentor"}, ["dina"]),
    ({"skill": "api-test-chromatography", "country": "BR", "q": "silva"}, ["bruno"]),
    (
        {"q": "", "skill": "", "level": "", "country": "", "language": "", "role": ""},
        ["ada", "amina", "bruno", "chen", "dina"],
    ),
]


def test_list_filters(member_api, directory) -> None:
    """Each filter narrows the directory; filters combine; empty values mean "any"."""
    for params, expected in FILTER_CASES:
        response = member_api.get(MEMBERS_URL, params)
        assert usernames(response) == expected, params
        assert response.json()["count"] == len(expected), params


def test_list_filter_skill_lists_a_member_once(member_api, directory) -> None:
    """A member matching a skill filter is listed once, with all their skills."""
    results = member_api.get(MEMBERS_URL, {"skill": "api-test-fermentation"}).json()["results"]
    assert [r["username"] for r in results] == ["ada"]
    assert len(results[0]["skills"]) == 2


def test_list_filters_do_not_reveal_members_only_profiles(api_client, directory) -> None:
    """Filtering anonymously never turns up a members-only profile."""
    assert usernames(api_client.get(MEMBERS_URL, {"q": "dina"})) == []
    assert usernames(api_client.get(MEMBERS_URL, {"language": "ar"})) == []
    assert usernames(api_client.get(MEMBERS_URL, {"country": "NG"})) == ["ada"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"level": "9"}, "level"),
        ({"level": "0"}, "level"),
        ({"level": "high"}, "level"),
        ({"country": "ZZ"}, "country"),
        ({"country": "Nigeria"}, "country"),
        ({"language": "xx"}, "language"),
        ({"language": "english"}, "language"),
        ({"role": "king"}, "role"),
        ({"skill": "not a slug"}, "skill"),
        ({"q": "x" * 101}, "q"),
    ],
)
def test_list_rejects_invalid_filter_values(api_client, db, params, field) -> None:
    """An invalid filter value is a 400 that names the offending field."""
    assert_error(api_client.get(MEMBERS_URL, params), 400, "invalid", {field})


def test_list_names_every_invalid_filter_at_once(api_client, db) -> None:
    """Several invalid filters are all named in one 400."""
    response = api_client.get(MEMBERS_URL, {"level": "9", "country": "ZZ", "role": "king"})
    assert_error(response, 400, "invalid", {"level", "country", "role"})


def test_list_is_paginated(api_client, directory) -> None:
    """The directory pages with page_size, next and previous; past the end is a 404."""
    first = api_client.get(MEMBERS_URL, {"page_size": 2}).json()
    assert first["count"] == 3
    assert [r["username"] for r in first["results"]] == ["ada", "bruno"]
    second = api_client.get(first["next"]).json()
    assert [r["username"] for r in second["results"]] == ["chen"]
    assert second["next"] is None
    assert second["previous"] is not None
    assert_error(api_client.get(MEMBERS_URL, {"page_size": 2, "page": 3}), 404, "not_found")


# --- detail -----------------------------------------------------------------------------------
def test_detail_shows_a_public_profile_to_anyone(api_client, directory) -> None:
    """Anyone can read a public profile, with bio, time zone and join date but no e-mail."""
    make_member("erin", display_name="Erin", bio="Loves **TFF** <script>alert(1)</script>")
    response = api_client.get(f"{MEMBERS_URL}erin/")
    assert response.status_code == 200
    data = response.json()
    assert set(data) == {
        "username", "display_name", "headline", "organisation", "country", "country_name",
        "roles", "languages", "skills", "time_zone", "bio", "bio_html", "joined",
    }  # fmt: skip
    assert data["username"] == "erin"
    assert data["time_zone"] == "UTC"
    assert "<strong>TFF</strong>" in data["bio_html"]
    assert "<script" not in data["bio_html"]

    ada = api_client.get(f"{MEMBERS_URL}ada/").json()
    assert ada["languages"] == ["en", "ig"]
    assert [s["skill"] for s in ada["skills"]] == [
        "api-test-fermentation",
        "api-test-chromatography",
    ]


def test_detail_username_is_case_insensitive(api_client, directory) -> None:
    """A profile URL works whatever the case of the username."""
    assert api_client.get(f"{MEMBERS_URL}BRUNO/").json()["username"] == "bruno"


def test_detail_members_only_profile_needs_sign_in(member_api, directory) -> None:
    """Signed-in members can read a members-only profile."""
    response = member_api.get(f"{MEMBERS_URL}dina/")
    assert response.status_code == 200
    assert response.json()["display_name"] == "Dina Haddad"


def test_detail_hidden_and_missing_members_look_the_same(api_client, member_api, directory) -> None:
    """Unknown, deactivated and (anonymously) members-only profiles give the same 404 body."""
    _deactivate("chen")
    unknown = api_client.get(f"{MEMBERS_URL}nobody/")
    assert_error(unknown, 404, "not_found", set())
    for client, username in [
        (api_client, "chen"),  # deactivated
        (member_api, "chen"),  # deactivated, even for members
        (api_client, "dina"),  # members only, anonymous viewer
        (member_api, "nobody"),
    ]:
        response = client.get(f"{MEMBERS_URL}{username}/")
        assert response.status_code == 404
        assert response.content == unknown.content
