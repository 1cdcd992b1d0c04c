"""/api/v1/me/: reading and editing your own profile, and refusing bad input whole."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.api.helpers import assert_error
from tests.factories import make_member

ME_URL = "/api/v1/me/"


@pytest.fixture
def me(db, skills):  # type: ignore[no-untyped-def]
    """Amina with a filled-in profile, and an API client signed in as her."""
    profile = make_member(
        "amina", display_name="Amina Okafor", roles=("learner",), time_zone="Africa/Lagos",
        headline="Trainee", organisation="BioLagos", country="NG", bio="Hello",
        languages=["en", "yo"], skills={skills[0].slug: 2},
    )  # fmt: skip
    client = APIClient()
    client.force_authenticate(profile.user)
    return client


def test_anonymous_me_is_refused_in_error_format(api_client) -> None:
    """Without credentials /me/ answers 401 in the error format and asks for a token."""
    assert_error(api_client.get(ME_URL), 401, "not_authenticated", set())
    assert api_client.get(ME_URL)["WWW-Authenticate"] == "Token"
    assert_error(api_client.patch(ME_URL, {"headline": "x"}), 401, "not_authenticated")


def test_get_me_returns_own_profile_with_email_and_visibility(me) -> None:
    """GET /me/ shows your whole profile, including your e-mail and visibility."""
    response = me.get(ME_URL)
    assert response.status_code == 200
    data = response.json()
    assert data["username"] == "amina"
    assert data["email"] == "amina@example.org"
    assert data["visibility"] == "public"
    assert data["display_name"] == "Amina Okafor"
    assert data["time_zone"] == "Africa/Lagos"
    assert data["country"] == "NG"
    assert data["roles"] == ["learner"]
    assert data["languages"] == ["en", "yo"]
    assert data["skills"] == [
        {
            "skill": "api-test-chromatography",
            "name": "API chromatography",
            "level": 2,
            "level_label": "Practitioner",
        }
    ]
    assert {"bio", "bio_html", "joined", "headline", "organisation"} <= set(data)


def test_get_me_works_for_a_members_only_profile(me) -> None:
    """A members-only profile still sees itself on /me/."""
    assert me.patch(ME_URL, {"visibility": "members"}).status_code == 200
    assert me.get(ME_URL).json()["visibility"] == "members"


def test_get_me_creates_a_missing_profile(db) -> None:
    """An account without a profile yet gets a fresh one on its first /me/."""
    from tests.factories import UserFactory

    user = UserFactory(username="newbie")
    client = APIClient()
    client.force_authenticate(user)
    data = client.get(ME_URL).json()
    assert data["username"] == "newbie"
    assert data["display_name"] == "newbie"
    assert data["visibility"] == "public"


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        ({"display_name": "  Amina O.  "}, {"display_name": "Amina O."}),
        ({"headline": "QC analyst"}, {"headline": "QC analyst"}),
        ({"headline": ""}, {"headline": ""}),
        ({"organisation": "Vaccine Works"}, {"organisation": "Vaccine Works"}),
        ({"country": "KE"}, {"country": "KE", "country_name": "Kenya"}),
        ({"country": ""}, {"country": "", "country_name": ""}),
        ({"time_zone": "Asia/Kolkata"}, {"time_zone": "Asia/Kolkata"}),
        ({"bio": "I run **TFF**"}, {"bio": "I run **TFF**"}),
        ({"visibility": "members"}, {"visibility": "members"}),
        ({"roles": ["mentor", "professional"]}, {"roles": ["professional", "mentor"]}),
        ({"roles": []}, {"roles": []}),
        ({"languages": ["fr", "sw"]}, {"languages": ["fr", "sw"]}),
        ({"languages": []}, {"languages": []}),
        (
            {"skills": [{"skill": "api-test-gmp-audits", "level": 4}]},
            {"skills": [("api-test-gmp-audits", 4)]},
        ),
        (
            {
                "skills": [
                    {"skill": "api-test-chromatography", "level": 3},
                    {"skill": "api-test-fermentation", "level": 1},
                ]
            },
            {"skills": [("api-test-chromatography", 3), ("api-test-fermentation", 1)]},
        ),
        ({"skills": []}, {"skills": []}),
    ],
)
def test_patch_changes_only_the_fields_sent(me, patch, expected) -> None:
    """PATCH /me/ changes exactly the fields sent; the rest stays as it was."""
    before = me.get(ME_URL).json()
    response = me.patch(ME_URL, patch)
    assert response.status_code == 200, response.content
    after = me.get(ME_URL).json()
    assert response.json() == after

    def view(data: dict[str, Any]) -> dict[str, Any]:
        data = dict(data)
        data["skills"] = [(s["skill"], s["level"]) for s in data["skills"]]
        return data

    want = {**view(before), **expected}
    got = view(after)
    if "bio" in patch:
        assert "<strong>TFF</strong>" in got.pop("bio_html")
        want.pop("bio_html")
    assert got == want


def test_patch_visibility_hides_the_profile_from_anonymous_visitors(me, api_client) -> None:
    """Switching to members-only takes the profile out of the public directory at once."""
    assert api_client.get("/api/v1/members/amina/").status_code == 200
    me.patch(ME_URL, {"visibility": "members"})
    assert api_client.get("/api/v1/members/amina/").status_code == 404
    assert api_client.get("/api/v1/members/").json()["count"] == 0
    me.patch(ME_URL, {"visibility": "public"})
    assert api_client.get("/api/v1/members/amina/").status_code == 200


def test_patch_with_nothing_changes_nothing(me) -> None:
    """An empty PATCH is accepted and leaves the profile as it was."""
    before = me.get(ME_URL).json()
    response = me.patch(ME_URL, {})
    assert response.status_code == 200
    assert response.json() == before


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"skills": [{"skill": "no-such-skill", "level": 2}]}, "skills"),
        ({"skills": [{"skill": "api-test-fermentation", "level": 7}]}, "skills"),
        ({"skills": [{"skill": "api-test-fermentation", "level": 0}]}, "skills"),
        ({"skills": [{"skill": "api-test-fermentation"}]}, "skills"),
        (
            {
                "skills": [
                    {"skill": "api-test-fermentation", "level": 2},
                    {"skill": "api-test-fermentation", "level": 3},
                ]
            },
            "skills",
        ),
        ({"skills": {"api-test-fermentation": 2}}, "skills"),
        ({"skills": ["api-test-fermentation"]}, "skills"),
        ({"languages": ["xx"]}, "languages"),
        ({"languages": "en"}, "languages"),
        (
            {"languages": ["en", "fr", "es", "pt", "de", "it", "nl", "pl", "ru", "uk", "tr"]},
            "languages",
        ),
        ({"roles": ["king"]}, "roles"),
        ({"roles": "mentor"}, "roles"),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({"time_zone": ""}, "time_zone"),
        ({"display_name": "x" * 81}, "display_name"),
        ({"display_name": ""}, "display_name"),
        ({"display_name": "   "}, "display_name"),
        ({"display_name": None}, "display_name"),
        ({"headline": "x" * 141}, "headline"),
        ({"organisation": ["BioLagos"]}, "organisation"),
        ({"country": "ZZ"}, "country"),
        ({"bio": "x" * 5001}, "bio"),
        ({"visibility": "secret"}, "visibility"),
        ({"visibility": True}, "visibility"),
    ],
)
def test_patch_rejects_bad_input_and_changes_nothing(me, payload, field) -> None:
    """Bad input is a 400 naming the field, and the profile is left exactly as it was."""
    before = me.get(ME_URL).json()
    response = me.patch(ME_URL, {"headline": "Should not stick", **payload})
    assert_error(response, 400, "invalid", {field})
    assert me.get(ME_URL).json() == before


def test_patch_names_every_bad_field_at_once(me) -> None:
    """Several bad fields are all named in one 400."""
    response = me.patch(ME_URL, {"roles": "mentor", "languages": ["xx"], "display_name": "x" * 81})
    assert_error(response, 400, "invalid", {"roles", "languages", "display_name"})


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        ("{not json", "application/json", 400, "parse_error"),
        ('["headline", "x"]', "application/json", 400, "invalid"),
        ('"just a string"', "application/json", 400, "invalid"),
        ("headline=x", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
    ],
)
def test_patch_rejects_a_body_that_is_not_a_json_object(me, body, content_type, status, code):
    """A body that is not a JSON object is refused in the error format; nothing changes."""
    before = me.get(ME_URL).json()
    response = me.generic("PATCH", ME_URL, body, content_type=content_type)
    error = assert_error(response, status, code)
    if code == "invalid":
        assert set(error["fields"]) == {"non_field_errors"}
    assert me.get(ME_URL).json() == before


@pytest.mark.parametrize("method", ["put", "delete", "post"])
def test_me_other_methods_are_not_allowed(me, method) -> None:
    """PUT, DELETE and POST on /me/ are 405 in the error format and change nothing."""
    before = me.get(ME_URL).json()
    response = getattr(me, method)(ME_URL, {"display_name": "Replaced"})
    assert_error(response, 405, "method_not_allowed", set())
    assert "PATCH" in response["Allow"]
    assert me.get(ME_URL).json() == before


def test_session_patch_without_csrf_token_is_refused(me, member) -> None:
    """A browser session cannot PATCH /me/ without the CSRF token; with it, it can."""
    client = APIClient(enforce_csrf_checks=True)
    client.get("/accounts/login/")  # a form page hands out the CSRF cookie
    csrf = client.cookies["csrftoken"].value
    client.force_login(member.user)
    assert client.get(ME_URL).status_code == 200
    response = client.patch(ME_URL, {"headline": "Forged"})
    error = assert_error(response, 403, "permission_denied", set())
    assert "CSRF" in error["message"]
    assert client.get(ME_URL).json()["headline"] == "Trainee"

    response = client.patch(ME_URL, {"headline": "Genuine"}, HTTP_X_CSRFTOKEN=csrf)
    assert response.status_code == 200, response.content
    assert client.get(ME_URL).json()["headline"] == "Genuine"
