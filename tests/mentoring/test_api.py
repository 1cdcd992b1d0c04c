"""/api/v1/mentoring/: settings, recommendations, the mentorship lifecycle, scheduling
helpers and programmes, with their permissions and refusals of bad input."""

import datetime as dt
import json
from typing import Any

import icalendar
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openapi_spec_validator import validate
from rest_framework.test import APIClient

from community.mentoring import services
from community.mentoring.availability import Window
from community.mentoring.models import Mentorship
from community.models import Skill, User
from tests.api.helpers import assert_error
from tests.factories import SkillFactory, make_member

BASE = "/api/v1/mentoring"
# Each API client loads the middleware, and WhiteNoise warns that STATIC_ROOT is missing.
pytestmark = pytest.mark.filterwarnings("ignore:No directory at:UserWarning")


# --- building data through the services ---------------------------------------------------------
def _windows(start: str, end: str) -> list[Window]:
    """The same window on every day of the week."""
    return [
        Window(day, dt.time.fromisoformat(start), dt.time.fromisoformat(end)) for day in range(7)
    ]


def person(
    username: str,
    *,
    languages: tuple[str, ...] = ("en",),
    time_zone: str = "UTC",
    roles: tuple[str, ...] = ("learner",),
    country: str = "",
    mentoring: dict[str, Any] | None = None,
) -> User:
    """A member made through the services, with optional mentoring settings."""
    extra = {"country": country} if country else {}
    profile = make_member(
        username,
        display_name=username.title(),
        roles=roles,
        time_zone=time_zone,
        languages=list(languages),
        **extra,
    )
    if mentoring:
        services.mentoring_settings_update(user=profile.user, data=mentoring)
    return profile.user


def mentor(
    username: str, *, capacity: int = 2, skills: dict[str, int] | None = None, **kw: Any
) -> User:
    settings = {"accepts_mentees": True, "capacity": capacity, "mentor_skills": skills or {}}
    settings.update(kw.pop("mentoring", {}))
    return person(username, roles=("professional", "mentor"), mentoring=settings, **kw)


def client_for(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture(autouse=True)
def _no_static_scan(settings) -> None:  # type: ignore[no-untyped-def]
    """Every API client loads the middleware; skip WhiteNoise's scan of static files there
    (0.3 s a client), which these tests never request."""
    settings.WHITENOISE_USE_FINDERS = False


@pytest.fixture
def skills(db: None) -> list[Skill]:
    """Three skills of our own, so the tests do not lean on the shipped catalogue."""
    return [
        SkillFactory(slug="mapi-chromatography", name="Chromatography"),
        SkillFactory(slug="mapi-fermentation", name="Fermentation"),
        SkillFactory(slug="mapi-gmp-audits", name="GMP audits"),
    ]


@pytest.fixture
def pair(skills: list[Skill]) -> tuple[User, User]:
    """Nadia (mentee, Lagos) and Olu (mentor, Kolkata); they share English."""
    mentee = person(
        "nadia",
        languages=("en", "fr"),
        time_zone="Africa/Lagos",
        mentoring={
            "seeking_mentor": True,
            "target_skills": {skills[0].slug: (1, 3)},
            "availability": _windows("14:00", "18:00"),
        },
    )
    olu = mentor(
        "olu",
        time_zone="Asia/Kolkata",
        skills={skills[0].slug: 4},
        mentoring={"availability": _windows("19:00", "22:00")},
    )
    return mentee, olu


@pytest.fixture
def stranger(db: None) -> User:
    return person("sipho", languages=("en",))


def _request(mentee: User, mentor_user: User, goals: str = "") -> Mentorship:
    return services.mentorship_request(
        mentee=mentee, mentor=mentor_user, message="Hello", goals=goals
    )


def in_state(state: str, mentee: User, mentor_user: User) -> Mentorship:
    """A mentorship between the two, brought into ``state`` through the services."""
    m = _request(mentee, mentor_user, goals="Run a column")
    if state == "declined":
        services.mentorship_decline(actor=mentor_user, mentorship=m, reason="Busy")
    elif state == "withdrawn":
        services.mentorship_withdraw(actor=mentee, mentorship=m)
    elif state == "expired":
        services.mentorship_requests_expire(now=timezone.now() + dt.timedelta(days=30))
    elif state in ("active", "completed", "cancelled"):
        services.mentorship_accept(actor=mentor_user, mentorship=m)
        if state == "completed":
            services.mentorship_complete(actor=mentee, mentorship=m)
        elif state == "cancelled":
            services.mentorship_cancel(actor=mentee, mentorship=m)
    m.refresh_from_db()
    assert m.status == state
    return m


def url(mentorship: Mentorship | int, action: str = "") -> str:
    pk = mentorship if isinstance(mentorship, int) else mentorship.pk
    return f"{BASE}/mentorships/{pk}/{action}"


# --- anonymous ----------------------------------------------------------------------------------
ANONYMOUS = [
    ("get", "settings/"),
    ("patch", "settings/"),
    ("get", "recommendations/"),
    ("get", "mentorships/"),
    ("post", "mentorships/"),
    ("get", "mentorships/1/"),
    *[
        ("post", f"mentorships/1/{action}/")
        for action in ("accept", "decline", "withdraw", "complete", "cancel")
    ],
    ("post", "mentorships/1/feedback/"),
    ("post", "mentorships/1/goals/"),
    ("patch", "mentorships/1/goals/1/"),
    ("post", "mentorships/1/sessions/"),
    ("get", "mentorships/1/meeting-times/"),
    ("get", "mentorships/1/invite.ics"),
    ("get", "programmes/"),
    ("post", "programmes/"),
    ("get", "programmes/1/"),
    ("post", "programmes/1/members/"),
    ("delete", "programmes/1/members/nadia/"),
    ("post", "programmes/1/match/"),
    ("post", "programmes/1/adjust/"),
    ("post", "programmes/1/publish/"),
]


@pytest.mark.parametrize(("method", "path"), ANONYMOUS)
def test_anonymous_is_refused_everywhere(api_client, db, method: str, path: str) -> None:
    """Every mentoring endpoint answers an anonymous caller 401 in the error format."""
    response = getattr(api_client, method)(f"{BASE}/{path}", {})
    assert_error(response, 401, "not_authenticated", set())


# --- settings -----------------------------------------------------------------------------------
def test_settings_start_with_defaults(stranger) -> None:
    """A member who never set anything sees the defaults and their profile time zone."""
    data = client_for(stranger).get(f"{BASE}/settings/").json()
    assert data["accepts_mentees"] is False
    assert data["capacity"] == 2
    assert data["formats"] == ["video", "chat"]
    assert data["seeking_mentor"] is False
    assert data["time_zone"] == "UTC"
    assert data["mentor_skills"] == data["target_skills"] == data["availability"] == []
    assert data["availability_hours"] == 0


def test_settings_patch_saves_everything(skills) -> None:
    """PATCH stores every setting, and GET shows them back, windows in the member's zone."""
    user = person("kemi", time_zone="Africa/Nairobi")
    client = client_for(user)
    body = {
        "accepts_mentees": True,
        "capacity": 3,
        "formats": ["async", "video"],
        "seeking_mentor": True,
        "goals": "Lead a tech transfer",
        "mentor_skills": [{"skill": skills[0].slug, "level": 4}],
        "target_skills": [{"skill": skills[1].slug, "current_level": 0, "target_level": 2}],
        "availability": [
            {"weekday": 0, "start": "09:00", "end": "11:30"},
            {"weekday": 5, "start": "22:00", "end": "24:00"},
        ],
    }
    response = client.patch(f"{BASE}/settings/", body)
    assert response.status_code == 200, response.content
    for data in (response.json(), client.get(f"{BASE}/settings/").json()):
        assert data["accepts_mentees"] is True
        assert data["capacity"] == 3
        assert data["formats"] == ["video", "async"]
        assert data["goals"] == "Lead a tech transfer"
        assert data["time_zone"] == "Africa/Nairobi"
        assert data["mentor_skills"] == [
            {"skill": skills[0].slug, "name": "Chromatography", "level": 4}
        ]
        assert data["target_skills"] == [
            {"skill": skills[1].slug, "name": "Fermentation", "current_level": 0, "target_level": 2}
        ]
        assert data["availability"] == body["availability"]
        assert data["availability_hours"] == 4.5


def test_settings_patch_replaces_only_the_lists_it_is_given(skills) -> None:
    """A list sent replaces the stored one; lists not sent stay; an empty list clears."""
    client = client_for(person("kemi"))
    client.patch(
        f"{BASE}/settings/",
        {
            "mentor_skills": [{"skill": skills[0].slug, "level": 2}],
            "availability": [{"weekday": 1, "start": "08:00", "end": "09:00"}],
        },
    )
    client.patch(f"{BASE}/settings/", {"mentor_skills": [{"skill": skills[2].slug, "level": 3}]})
    data = client.patch(f"{BASE}/settings/", {"capacity": 4}).json()
    assert [s["skill"] for s in data["mentor_skills"]] == [skills[2].slug]
    assert data["availability"] == [{"weekday": 1, "start": "08:00", "end": "09:00"}]
    data = client.patch(f"{BASE}/settings/", {"availability": []}).json()
    assert data["availability"] == []
    assert [s["skill"] for s in data["mentor_skills"]] == [skills[2].slug]


BAD_SETTINGS = [
    ({"capacity": 0}, "capacity"),
    ({"capacity": 11}, "capacity"),
    ({"capacity": "lots"}, "capacity"),
    ({"accepts_mentees": "perhaps"}, "accepts_mentees"),
    ({"formats": ["fax"]}, "formats"),
    ({"goals": "x" * 2001}, "goals"),
    ({"mentor_skills": "chromatography"}, "mentor_skills"),
    ({"mentor_skills": [{"skill": "no-such-skill", "level": 2}]}, "mentor_skills"),
    ({"mentor_skills": [{"skill": "mapi-fermentation", "level": 5}]}, "mentor_skills"),
    (
        {
            "mentor_skills": [
                {"skill": "mapi-fermentation", "level": 2},
                {"skill": "mapi-fermentation", "level": 3},
            ]
        },
        "mentor_skills",
    ),
    (
        {"target_skills": [{"skill": "mapi-fermentation", "current_level": 3, "target_level": 2}]},
        "target_skills",
    ),
    (
        {"target_skills": [{"skill": "no-such-skill", "current_level": 0, "target_level": 2}]},
        "target_skills",
    ),
    ({"availability": [{"weekday": 7, "start": "09:00", "end": "10:00"}]}, "availability"),
    ({"availability": [{"weekday": 1, "start": "9am", "end": "10:00"}]}, "availability"),
    ({"availability": [{"weekday": 1, "start": "11:00", "end": "10:00"}]}, "availability"),
    ({"availability": [{"weekday": 1, "start": "09:10", "end": "10:00"}]}, "availability"),
    ({"availability": [{"weekday": 1, "start": "24:00", "end": "10:00"}]}, "availability"),
    ({"availability": [{"weekday": 1, "start": "08:00", "end": "09:00"}] * 22}, "availability"),
    ({"capcity": 3}, "capcity"),
]


def test_settings_bad_input_is_refused_and_changes_nothing(skills) -> None:
    """Bad settings get a 400 naming the field, and the stored settings stay as they were."""
    client = client_for(person("kemi"))
    before = client.patch(
        f"{BASE}/settings/",
        {
            "capacity": 3,
            "mentor_skills": [{"skill": skills[0].slug, "level": 2}],
            "availability": [{"weekday": 1, "start": "08:00", "end": "09:00"}],
        },
    ).json()
    for body, field in BAD_SETTINGS:
        # A valid change rides along: the whole request must be refused, not just the field.
        payload = body if field == "goals" else {**body, "goals": "changed"}
        response = client.patch(f"{BASE}/settings/", payload)
        assert_error(response, 400, "invalid", {field})
        assert client.get(f"{BASE}/settings/").json() == before, body
    response = client.patch(f"{BASE}/settings/", [{"capacity": 3}])
    assert_error(response, 400, "invalid", {"non_field_errors"})


# --- recommendations ----------------------------------------------------------------------------
def test_recommendations_are_explained(pair, skills) -> None:
    """A mentee sees a suitable mentor with score parts and a readable explanation."""
    mentee, _olu = pair
    person("yuki", languages=("ja",), roles=("mentor",), mentoring={"accepts_mentees": True})
    response = client_for(mentee).get(f"{BASE}/recommendations/")
    assert response.status_code == 200
    items = response.json()
    assert [item["mentor"]["username"] for item in items] == ["olu"]
    item = items[0]
    assert item["mentor"] == {
        "username": "olu",
        "display_name": "Olu",
        "headline": "",
        "country": "",
        "languages": ["en"],
    }
    assert set(item["parts"]) == {"skills", "availability", "capacity", "area"}
    assert item["parts"]["skills"] == 50
    assert item["score"] == pytest.approx(sum(item["parts"].values()))
    assert "covers 1 of your 1 target skills" in item["explanation"]
    assert "21 h/week overlap" in item["explanation"]  # 3 h a day, every day
    assert item["parts"]["availability"] == 25
    assert "you both speak English" in item["explanation"]


def test_recommendations_filter_by_skill_language_and_country(skills) -> None:
    """The skill, language and country filters and the limit narrow the suggestions."""
    mentee = person("nadia", languages=("en", "fr", "sw"))
    mentor("claire", languages=("fr", "en"), country="FR", skills={skills[0].slug: 3})
    mentor("wanjiru", languages=("sw", "en"), country="KE", skills={skills[1].slug: 3})
    client = client_for(mentee)

    def names(**params: Any) -> set[str]:
        response = client.get(f"{BASE}/recommendations/", params)
        assert response.status_code == 200, response.content
        return {item["mentor"]["username"] for item in response.json()}

    assert names() == {"claire", "wanjiru"}
    assert names(skill=skills[1].slug) == {"wanjiru"}
    assert names(language="fr") == {"claire"}
    assert names(country="KE") == {"wanjiru"}
    assert len(names(limit=1)) == 1


def test_recommendations_hide_mentors_at_capacity_or_who_declined(pair) -> None:
    """A mentor who declined the mentee, or has no free place, is no longer suggested."""
    mentee, olu = pair
    services.mentorship_decline(actor=olu, mentorship=_request(mentee, olu), reason="No time")
    full = mentor("ama", capacity=1)
    services.mentorship_accept(actor=full, mentorship=_request(person("kofi"), full))
    assert client_for(mentee).get(f"{BASE}/recommendations/").json() == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 51}, "limit"),
        ({"limit": 0}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"skill": "no-such-skill"}, "skill"),
        ({"language": "xx"}, "language"),
        ({"country": "ZZ"}, "country"),
    ],
)
def test_recommendations_bad_filters_are_refused(stranger, params, field) -> None:
    """Unknown filters or a limit outside 1-50 get a 400 naming the parameter."""
    response = client_for(stranger).get(f"{BASE}/recommendations/", params)
    assert_error(response, 400, "invalid", {field})


# --- requesting and listing ---------------------------------------------------------------------
def test_request_creates_a_mentorship_both_people_see(pair) -> None:
    """POST mentorships/ asks the mentor; both see it and the mentor is notified."""
    mentee, olu = pair
    response = client_for(mentee).post(
        f"{BASE}/mentorships/", {"mentor": "olu", "message": "Hi!", "goals": "Column packing"}
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["status"] == "requested"
    assert data["role"] == "mentee"
    assert data["mentee"] == {"username": "nadia", "display_name": "Nadia"}
    assert data["mentor"] == {"username": "olu", "display_name": "Olu"}
    assert data["message"] == "Hi!"
    assert data["goals"] == "Column packing"
    assert data["expires_at"]
    seen = client_for(olu).get(url(data["id"])).json()
    assert seen["id"] == data["id"]
    assert seen["role"] == "mentor"
    kinds = [n["kind"] for n in client_for(olu).get("/api/v1/notifications/").json()["results"]]
    assert kinds == ["mentoring.request"]


def test_request_bad_input_is_refused(pair) -> None:
    """Unknown, missing, unsuitable or repeated mentors get a 400 naming the field."""
    mentee, _olu = pair
    person("lazy", mentoring={"accepts_mentees": False})
    mentor("yuki", languages=("ja",))
    client = client_for(mentee)
    cases = [
        ({"mentor": "nobody"}, "mentor"),
        ({}, "mentor"),
        ({"mentor": 42}, "mentor"),
        ({"mentor": "nadia"}, "mentor"),
        ({"mentor": "lazy"}, "mentor"),
        ({"mentor": "yuki"}, "mentor"),
        ({"mentor": "olu", "message": "x" * 2001}, "message"),
        ({"mentor": "olu", "urgent": True}, "urgent"),
    ]
    for body, field in cases:
        assert_error(client.post(f"{BASE}/mentorships/", body), 400, "invalid", {field})
    assert not Mentorship.objects.exists()
    assert client.post(f"{BASE}/mentorships/", {"mentor": "olu"}).status_code == 201
    assert_error(client.post(f"{BASE}/mentorships/", {"mentor": "olu"}), 400, "invalid", {"mentor"})
    assert Mentorship.objects.count() == 1


def test_list_shows_mine_with_role_and_status_filters(pair, stranger) -> None:
    """The list holds my mentorships from both sides, filtered by role and status."""
    mentee, olu = pair
    olu_mentors = in_state("active", mentee, olu)
    olu_asks = in_state("requested", olu, mentor("rita"))
    in_state("requested", stranger, mentor("zane"))
    client = client_for(olu)

    def ids(**params: Any) -> list[int]:
        response = client.get(f"{BASE}/mentorships/", params)
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["count"] == len(body["results"])
        return [item["id"] for item in body["results"]]

    assert sorted(ids()) == sorted([olu_mentors.pk, olu_asks.pk])
    assert ids(role="mentor") == [olu_mentors.pk]
    assert ids(role="mentee") == [olu_asks.pk]
    assert ids(status="requested") == [olu_asks.pk]
    assert ids(status="active", role="mentee") == []
    results = client.get(f"{BASE}/mentorships/").json()["results"]
    assert {item["id"]: item["role"] for item in results} == {
        olu_mentors.pk: "mentor",
        olu_asks.pk: "mentee",
    }
    assert_error(client.get(f"{BASE}/mentorships/", {"status": "lost"}), 400, "invalid", {"status"})
    assert_error(client.get(f"{BASE}/mentorships/", {"role": "boss"}), 400, "invalid", {"role"})


def test_mentorship_list_costs_the_same_queries_for_more_items(pair) -> None:
    """Listing mentorships takes a fixed number of queries, however many there are."""
    mentee, olu = pair
    client = client_for(olu)
    in_state("active", mentee, olu)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(f"{BASE}/mentorships/")
        assert response.status_code == 200
        return len(ctx.captured_queries)

    few = queries()
    for name in ("tomas", "ines", "raj"):
        _request(person(name), olu)
    assert client.get(f"{BASE}/mentorships/").json()["count"] == 4
    assert queries() == few


def test_only_the_two_people_see_a_mentorship(pair, stranger) -> None:
    """Someone else's mentorship answers 404 with the same body as a missing id."""
    mentee, olu = pair
    m = in_state("active", mentee, olu)
    assert client_for(mentee).get(url(m)).status_code == 200
    assert client_for(olu).get(url(m)).status_code == 200
    other = client_for(stranger).get(url(m))
    missing = client_for(stranger).get(url(m.pk + 1000))
    assert_error(other, 404, "not_found", set())
    assert other.json() == missing.json()
    assert client_for(stranger).get(f"{BASE}/mentorships/").json()["count"] == 0


# --- the lifecycle ------------------------------------------------------------------------------
TODAY = "today"
ACTIONS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "accept": ("mentor", "accept/", {}),
    "decline": ("mentor", "decline/", {"reason": "Fully booked"}),
    "withdraw": ("mentee", "withdraw/", {}),
    "complete": ("mentee", "complete/", {"reason": "Goals met"}),
    "cancel": ("mentee", "cancel/", {"reason": "Changed jobs"}),
    "feedback": ("mentee", "feedback/", {"rating": 4, "comment": "Helpful"}),
    "goals": ("mentee", "goals/", {"title": "Pass the GMP audit"}),
    "sessions": ("mentee", "sessions/", {"date": TODAY, "notes": "Talked"}),
}
STATES = ["requested", "declined", "withdrawn", "expired", "active", "completed", "cancelled"]
LEGAL = {
    ("requested", "accept"): (200, "active"),
    ("requested", "decline"): (200, "declined"),
    ("requested", "withdraw"): (200, "withdrawn"),
    ("active", "complete"): (200, "completed"),
    ("active", "cancel"): (200, "cancelled"),
    ("active", "goals"): (201, "active"),
    ("active", "sessions"): (201, "active"),
    ("completed", "feedback"): (201, "completed"),
    ("cancelled", "feedback"): (201, "cancelled"),
}


def _act(action: str, m: Mentorship, mentee: User, mentor_user: User) -> Any:
    side, path, body = ACTIONS[action]
    if body.get("date") == TODAY:
        body = {**body, "date": timezone.localdate().isoformat()}
    actor = mentee if side == "mentee" else mentor_user
    return client_for(actor).post(url(m, path), body)


@pytest.mark.parametrize(("state", "action"), list(LEGAL))
def test_every_legal_transition_works(pair, state: str, action: str) -> None:
    """Each allowed step succeeds for the right person and moves the mentorship on."""
    mentee, olu = pair
    m = in_state(state, mentee, olu)
    code, new_status = LEGAL[(state, action)]
    response = _act(action, m, mentee, olu)
    assert response.status_code == code, response.content
    assert client_for(mentee).get(url(m)).json()["status"] == new_status


@pytest.mark.parametrize("state", STATES)
def test_every_illegal_transition_is_refused(pair, state: str) -> None:
    """Each step the mentorship's state does not allow gets a 400 on "status" and changes
    nothing."""
    mentee, olu = pair
    m = in_state(state, mentee, olu)
    before = client_for(mentee).get(url(m)).json()
    illegal = [action for action in ACTIONS if (state, action) not in LEGAL]
    assert illegal
    for action in illegal:
        assert_error(_act(action, m, mentee, olu), 400, "invalid", {"status"})
        assert client_for(mentee).get(url(m)).json() == before, action


@pytest.mark.parametrize(
    ("action", "actor"), [("accept", "mentee"), ("decline", "mentee"), ("withdraw", "mentor")]
)
def test_the_wrong_one_of_the_two_gets_403(pair, action: str, actor: str) -> None:
    """Only the mentor accepts or declines, only the mentee withdraws: the other gets 403."""
    mentee, olu = pair
    m = in_state("requested", mentee, olu)
    client = client_for(mentee if actor == "mentee" else olu)
    assert_error(client.post(url(m, f"{action}/"), {}), 403, "permission_denied", set())
    assert client_for(mentee).get(url(m)).json()["status"] == "requested"


def test_strangers_acting_on_a_mentorship_get_404(pair, stranger) -> None:
    """Any action on someone else's mentorship answers 404, the same as a missing id."""
    mentee, olu = pair
    by_state = {
        "requested": in_state("requested", mentee, olu),
        "active": in_state("active", mentee, mentor("ama")),
        "completed": in_state("completed", mentee, mentor("kojo")),
    }
    missing = client_for(stranger).get(url(max(m.pk for m in by_state.values()) + 1000)).json()
    for (state, action), _result in LEGAL.items():
        if state not in by_state:
            continue
        m = by_state[state]
        response = _act(action, m, stranger, stranger)
        assert_error(response, 404, "not_found", set())
        assert response.json() == missing
        assert client_for(mentee).get(url(m)).json()["status"] == state, action


def test_accept_turns_goals_into_shared_goals(pair) -> None:
    """Accepting makes the request active with one shared goal per line of its goals."""
    mentee, olu = pair
    m = _request(mentee, olu, goals="Pack a column\nRun a CIP cycle")
    data = client_for(olu).post(url(m, "accept/")).json()
    assert data["status"] == "active"
    assert data["responded_at"]
    assert [(g["title"], g["progress"]) for g in data["goal_items"]] == [
        ("Pack a column", 0),
        ("Run a CIP cycle", 0),
    ]


def test_accept_is_refused_at_capacity(pair) -> None:
    """A mentor at capacity cannot accept another request: 400 on "capacity"."""
    mentee, olu = pair
    services.mentoring_settings_update(user=olu, data={"capacity": 1})
    first = _request(mentee, olu)
    second = _request(person("tomas"), olu)
    assert client_for(olu).post(url(first, "accept/")).status_code == 200
    assert_error(client_for(olu).post(url(second, "accept/")), 400, "invalid", {"capacity"})
    assert client_for(olu).get(url(second)).json()["status"] == "requested"


def test_decline_reason_and_end_reason_are_shown(pair) -> None:
    """A decline reason and the reason for ending are shown to both people."""
    mentee, olu = pair
    declined = in_state("requested", mentee, olu)
    client_for(olu).post(url(declined, "decline/"), {"reason": "Fully booked until May"})
    assert client_for(mentee).get(url(declined)).json()["decline_reason"] == (
        "Fully booked until May"
    )
    other = mentor("ama")
    active = in_state("active", mentee, other)
    data = client_for(other).post(url(active, "cancel/"), {"reason": "Moving abroad"}).json()
    assert (data["status"], data["end_reason"]) == ("cancelled", "Moving abroad")
    assert data["ended_at"]


def test_feedback_from_both_sides_once_each(pair) -> None:
    """After the end each person rates once; a second rating or a bad one is refused."""
    mentee, olu = pair
    m = in_state("completed", mentee, olu)
    response = client_for(mentee).post(url(m, "feedback/"), {"rating": 5, "comment": "Great"})
    assert response.status_code == 201
    assert response.json()["author"] == "nadia"
    assert client_for(olu).post(url(m, "feedback/"), {"rating": 4}).status_code == 201
    again = client_for(mentee).post(url(m, "feedback/"), {"rating": 3})
    assert_error(again, 400, "invalid", {"rating"})
    for bad in ({"rating": 0}, {"rating": 6}, {"rating": "good"}, {}):
        assert_error(client_for(olu).post(url(m, "feedback/"), bad), 400, "invalid", {"rating"})
    feedback = client_for(olu).get(url(m)).json()["feedback"]
    assert sorted((f["author"], f["rating"]) for f in feedback) == [("nadia", 5), ("olu", 4)]


def test_goals_and_progress(pair) -> None:
    """Either person adds a shared goal and records progress from 0 to 100%."""
    mentee, olu = pair
    m = in_state("active", mentee, olu)
    response = client_for(olu).post(url(m, "goals/"), {"title": "Write an SOP"})
    assert response.status_code == 201
    goal = response.json()
    assert (goal["title"], goal["progress"]) == ("Write an SOP", 0)
    patched = client_for(mentee).patch(url(m, f"goals/{goal['id']}/"), {"progress": 60})
    assert patched.status_code == 200
    assert patched.json()["progress"] == 60
    goals = client_for(mentee).get(url(m)).json()["goal_items"]
    assert {"Write an SOP": 60}.items() <= {g["title"]: g["progress"] for g in goals}.items()


def test_goal_bad_input_and_foreign_goals(pair, stranger) -> None:
    """Bad titles and progress get 400; a goal of another mentorship, or someone else's, 404."""
    mentee, olu = pair
    m = in_state("active", mentee, olu)
    client = client_for(mentee)
    goal = client.post(url(m, "goals/"), {"title": "Validate a method"}).json()
    for body in ({"title": ""}, {"title": "x" * 201}, {}):
        assert_error(client.post(url(m, "goals/"), body), 400, "invalid", {"title"})
    bad_progress: list[dict[str, object]] = [
        {"progress": 101},
        {"progress": -1},
        {"progress": "half"},
        {},
    ]
    for bad in bad_progress:
        response = client.patch(url(m, f"goals/{goal['id']}/"), bad)
        assert_error(response, 400, "invalid", {"progress"})
    other = in_state("active", person("tomas"), olu)
    foreign = client_for(olu).post(url(other, "goals/"), {"title": "Theirs"}).json()
    response = client.patch(url(m, f"goals/{foreign['id']}/"), {"progress": 10})
    assert_error(response, 404, "not_found", set())
    response = client_for(stranger).patch(url(m, f"goals/{goal['id']}/"), {"progress": 10})
    assert_error(response, 404, "not_found", set())
    assert client.get(url(m)).json()["goal_items"][-1]["progress"] == 0


def test_sessions_are_logged(pair) -> None:
    """A session log entry keeps its date, notes, next steps and author."""
    mentee, olu = pair
    m = in_state("active", mentee, olu)
    day = (timezone.localdate() - dt.timedelta(days=2)).isoformat()
    body = {"date": day, "notes": "Reviewed a deviation", "next_steps": "Draft the CAPA"}
    response = client_for(olu).post(url(m, "sessions/"), body)
    assert response.status_code == 201, response.content
    sessions = client_for(mentee).get(url(m)).json()["sessions"]
    assert [(s["date"], s["notes"], s["next_steps"], s["author"]) for s in sessions] == [
        (day, "Reviewed a deviation", "Draft the CAPA", "olu")
    ]


def test_session_bad_input_is_refused(pair) -> None:
    """A future, malformed or missing date gets a 400 naming "date", and nothing is logged."""
    mentee, olu = pair
    m = in_state("active", mentee, olu)
    future = (timezone.localdate() + dt.timedelta(days=7)).isoformat()
    for body in ({"date": future}, {"date": "last Tuesday"}, {"notes": "x"}):
        assert_error(client_for(mentee).post(url(m, "sessions/"), body), 400, "invalid", {"date"})
    assert client_for(mentee).get(url(m)).json()["sessions"] == []


# --- scheduling ---------------------------------------------------------------------------------
def test_meeting_times_fall_inside_both_availabilities(pair) -> None:
    """Proposed times lie in both people's windows and are shown in each person's zone."""
    mentee, olu = pair
    m = in_state("active", mentee, olu)
    response = client_for(mentee).get(url(m, "meeting-times/"))
    assert response.status_code == 200
    slots = response.json()
    assert len(slots) == 5
    days = set()
    for slot in slots:
        start = dt.datetime.fromisoformat(slot["start"])
        end = dt.datetime.fromisoformat(slot["end"])
        assert start.utcoffset() == dt.timedelta(0)
        assert end - start == dt.timedelta(hours=1)
        # Nadia is free 13:00-17:00 UTC, Olu 13:30-16:30 UTC.
        assert dt.time(13, 30) <= start.time() <= dt.time(15, 30)
        assert start > timezone.now()
        days.add(start.date())
        mentee_local, mentor_local = slot["local"]
        assert mentee_local["username"] == "nadia"
        assert mentee_local["time_zone"] == "Africa/Lagos"
        assert dt.datetime.fromisoformat(mentee_local["start"]) == start
        assert mentee_local["start"].endswith("+01:00")
        assert mentor_local["username"] == "olu"
        assert mentor_local["start"].endswith("+05:30")
        olu_time = (start + dt.timedelta(hours=5, minutes=30)).strftime("%H:%M")
        assert mentor_local["formatted"].endswith(olu_time)
    assert len(days) == 5


def test_meeting_times_respect_the_length(pair) -> None:
    """A 3-hour meeting fits only at 13:30 UTC; a 4-hour one fits nowhere."""
    mentee, olu = pair
    m = in_state("active", mentee, olu)
    slots = client_for(olu).get(url(m, "meeting-times/"), {"minutes": 180}).json()
    assert slots
    assert {dt.datetime.fromisoformat(s["start"]).time() for s in slots} == {dt.time(13, 30)}
    assert client_for(olu).get(url(m, "meeting-times/"), {"minutes": 240}).json() == []


def test_meeting_times_bad_input(pair, stranger) -> None:
    """Bad lengths and inactive mentorships get 400; other people's mentorships 404."""
    mentee, olu = pair
    m = in_state("active", mentee, olu)
    client = client_for(mentee)
    for minutes in (50, 10, 300, "long"):
        response = client.get(url(m, "meeting-times/"), {"minutes": minutes})
        assert_error(response, 400, "invalid", {"minutes"})
    requested = in_state("requested", mentee, mentor("ama"))
    assert_error(client.get(url(requested, "meeting-times/")), 400, "invalid", {"status"})
    assert_error(client_for(stranger).get(url(m, "meeting-times/")), 404, "not_found")


def test_invite_is_an_icalendar_file_for_the_slot(pair) -> None:
    """The .ics invite holds one event at the proposed time with both names."""
    mentee, olu = pair
    m = in_state("active", mentee, olu)
    slot = client_for(mentee).get(url(m, "meeting-times/")).json()[0]
    response = client_for(olu).get(
        url(m, "invite.ics"), {"start": slot["start"]}, HTTP_ACCEPT="text/calendar"
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert response["Content-Disposition"].startswith("attachment;")
    calendar = icalendar.Calendar.from_ical(response.content)
    [event] = calendar.walk("VEVENT")
    start = dt.datetime.fromisoformat(slot["start"])
    assert event.decoded("dtstart") == start
    assert event.decoded("dtend") == start + dt.timedelta(hours=1)
    assert "Nadia" in str(event["summary"])
    assert "Olu" in str(event["summary"])


def test_invite_bad_input(pair, stranger) -> None:
    """A missing, malformed, past, unaligned or unavailable start gets 400 in JSON."""
    mentee, olu = pair
    m = in_state("active", mentee, olu)
    tomorrow = timezone.now().astimezone(dt.UTC).date() + dt.timedelta(days=1)

    def at(hour: int, minute: int) -> str:
        return dt.datetime.combine(tomorrow, dt.time(hour, minute), dt.UTC).isoformat()

    yesterday = dt.datetime.combine(tomorrow, dt.time(14), dt.UTC) - dt.timedelta(days=2)
    client = client_for(mentee)
    for params in (
        {},
        {"start": "soon"},
        {"start": yesterday.isoformat()},
        {"start": at(14, 10)},
        {"start": at(3, 0)},
        {"start": at(16, 0)},  # runs past Olu's 16:30 UTC
    ):
        response = client.get(url(m, "invite.ics"), params, HTTP_ACCEPT="text/calendar")
        assert_error(response, 400, "invalid", {"start"})
    assert client.get(url(m, "invite.ics"), {"start": at(14, 0)}).status_code == 200
    response = client.get(url(m, "invite.ics"), {"start": at(14, 0), "minutes": 7})
    assert_error(response, 400, "invalid", {"minutes"})
    response = client_for(stranger).get(url(m, "invite.ics"), {"start": at(14, 0)})
    assert_error(response, 404, "not_found")


# --- programmes ---------------------------------------------------------------------------------
@pytest.fixture
def runner(db: None) -> User:
    return person("fola", roles=("facilitator",))


@pytest.fixture
def staff(db: None) -> User:
    user = person("sam", roles=("professional",))
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


def _programme(client: APIClient, name: str = "Spring cohort") -> dict[str, Any]:
    response = client.post(f"{BASE}/programmes/", {"name": name, "description": "Pilot"})
    assert response.status_code == 201, response.content
    return response.json()


def _add(client: APIClient, pid: int, username: str, role: str, capacity: int = 1) -> Any:
    body = {"username": username, "role": role, "capacity": capacity}
    return client.post(f"{BASE}/programmes/{pid}/members/", body)


def test_only_staff_and_facilitators_create_programmes(runner, staff, stranger) -> None:
    """A facilitator or staff member creates a programme; anyone else gets 403."""
    data = _programme(client_for(runner))
    assert (data["owner"], data["status"], data["name"]) == ("fola", "draft", "Spring cohort")
    assert _programme(client_for(staff), "Staff cohort")["owner"] == "sam"
    response = client_for(stranger).post(f"{BASE}/programmes/", {"name": "Mine"})
    assert_error(response, 403, "permission_denied", set())
    assert_error(client_for(stranger).post(f"{BASE}/programmes/", {}), 403, "permission_denied")
    for body in ({}, {"name": ""}, {"name": "x" * 121}, {"name": "A", "budget": 3}):
        field = "budget" if "budget" in body else "name"
        assert_error(client_for(runner).post(f"{BASE}/programmes/", body), 400, "invalid", {field})


def test_programme_list_shows_own_or_all_for_staff(runner, staff, stranger) -> None:
    """Facilitators list their own programmes, staff all of them, others none."""
    mine = _programme(client_for(runner))
    theirs = _programme(client_for(person("femi", roles=("facilitator",))), "Other")

    def ids(user: User) -> list[int]:
        return [p["id"] for p in client_for(user).get(f"{BASE}/programmes/").json()["results"]]

    assert ids(runner) == [mine["id"]]
    assert sorted(ids(staff)) == sorted([mine["id"], theirs["id"]])
    assert ids(stranger) == []


def test_non_owners_get_404_on_a_programme(runner, staff, pair) -> None:
    """Another facilitator cannot see or run someone's programme; staff can."""
    del pair  # nadia and olu, the programme's members
    pid = _programme(client_for(runner))["id"]
    other = client_for(person("femi", roles=("facilitator",)))
    _add(client_for(runner), pid, "nadia", "mentee")
    _add(client_for(runner), pid, "olu", "mentor")
    for method, path, body in [
        ("get", "", None),
        ("post", "members/", {"username": "olu", "role": "mentor"}),
        ("delete", "members/nadia/", None),
        ("post", "match/", {}),
        ("post", "adjust/", {"mentee": "nadia", "mentor": None}),
        ("post", "publish/", {}),
    ]:
        response = getattr(other, method)(f"{BASE}/programmes/{pid}/{path}", body)
        assert_error(response, 404, "not_found", set())
    missing = other.get(f"{BASE}/programmes/{pid + 1000}/")
    assert missing.json() == other.get(f"{BASE}/programmes/{pid}/").json()
    staff_client = client_for(staff)
    assert staff_client.post(f"{BASE}/programmes/{pid}/match/").status_code == 200
    assert staff_client.post(f"{BASE}/programmes/{pid}/publish/").json()["status"] == "published"


def test_draft_programme_report_says_matching_has_not_run(runner, pair) -> None:
    """Before the matching runs, every mentee is listed as unmatched with that reason."""
    client = client_for(runner)
    pid = _programme(client)["id"]
    added = _add(client, pid, "nadia", "mentee")
    assert added.status_code == 201
    assert added.json() == {"username": "nadia", "display_name": "Nadia", "role": "mentee",
                            "capacity": 1}  # fmt: skip
    assert _add(client, pid, "olu", "mentor", 3).json()["capacity"] == 3
    data = client.get(f"{BASE}/programmes/{pid}/").json()
    assert (data["n_mentees"], data["n_mentors"]) == (1, 1)
    assert {(m["username"], m["role"], m["capacity"]) for m in data["members"]} == {
        ("nadia", "mentee", 1),
        ("olu", "mentor", 3),
    }
    assert data["matches"] == []
    assert data["report"] == {
        "total": 0.0,
        "mean": 0.0,
        "matched": 0,
        "mentees": 1,
        "unmatched": [
            {"username": "nadia", "display_name": "Nadia", "reason": "the matching has not run yet"}
        ],
    }


def test_match_report_explains_pairs_and_unmatched(runner, skills) -> None:
    """The matching proposes explained pairs and says why each unmatched mentee is left out."""
    client = client_for(runner)
    pid = _programme(client)["id"]
    mentor("olu", skills={skills[0].slug: 4})
    for name in ("ada", "bayo"):
        person(name, mentoring={"target_skills": {skills[0].slug: (0, 2)}})
    person("yuki", languages=("ja",))
    for name in ("ada", "bayo", "yuki"):
        _add(client, pid, name, "mentee")
    _add(client, pid, "olu", "mentor", 1)
    response = client.post(f"{BASE}/programmes/{pid}/match/")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["status"] == "proposed"
    assert data["matched_at"]
    [match] = data["matches"]
    assert match["mentor"]["username"] == "olu"
    assert match["mentee"]["username"] in {"ada", "bayo"}
    assert match["score"] > 0
    assert "covers 1 of your 1 target skills" in match["explanation"]
    assert match["adjusted"] is False
    report = data["report"]
    assert (report["matched"], report["mentees"]) == (1, 3)
    assert report["total"] == pytest.approx(match["score"])
    assert report["mean"] == pytest.approx(match["score"])
    left_over = "bayo" if match["mentee"]["username"] == "ada" else "ada"
    reasons = {u["username"]: u["reason"] for u in report["unmatched"]}
    assert reasons == {
        left_over: "every mentor who shares a language with you is at capacity",
        "yuki": "no mentor in the pool speaks a language you speak",
    }


def test_adjust_then_publish_creates_active_mentorships(runner) -> None:
    """The owner moves a mentee to another mentor, unmatches one, and publishes the rest."""
    client = client_for(runner)
    pid = _programme(client)["id"]
    for name in ("olu", "ama"):
        mentor(name)
    for name in ("ada", "bayo"):
        person(name)
        _add(client, pid, name, "mentee")
    _add(client, pid, "olu", "mentor", 2)
    _add(client, pid, "ama", "mentor", 1)
    client.post(f"{BASE}/programmes/{pid}/match/")
    data = client.post(
        f"{BASE}/programmes/{pid}/adjust/", {"mentee": "bayo", "mentor": None}
    ).json()
    assert [m["mentee"]["username"] for m in data["matches"]] == ["ada"]
    response = client.post(f"{BASE}/programmes/{pid}/adjust/", {"mentee": "ada", "mentor": "ama"})
    assert response.status_code == 200, response.content
    pairs = {m["mentee"]["username"]: m for m in response.json()["matches"]}
    assert pairs["ada"]["mentor"]["username"] == "ama"
    assert pairs["ada"]["adjusted"] is True
    assert pairs["ada"]["explanation"]
    [unmatched] = response.json()["report"]["unmatched"]
    assert unmatched["username"] == "bayo"
    assert "free place" in unmatched["reason"]
    published = client.post(f"{BASE}/programmes/{pid}/publish/")
    assert published.status_code == 200
    assert published.json()["status"] == "published"
    assert published.json()["published_at"]
    mine = client_for(User.objects.get(username="ada")).get(f"{BASE}/mentorships/").json()
    [m] = mine["results"]
    assert (m["status"], m["mentor"]["username"], m["programme"]) == ("active", "ama", pid)
    assert (
        client_for(User.objects.get(username="bayo")).get(f"{BASE}/mentorships/").json()["count"]
        == 0
    )


def test_programme_steps_out_of_order_are_refused(runner) -> None:
    """Adjusting or publishing before matching, and changing a published programme, get 400."""
    client = client_for(runner)
    pid = _programme(client)["id"]
    mentor("olu")
    person("ada")
    _add(client, pid, "ada", "mentee")
    _add(client, pid, "olu", "mentor")
    body = {"mentee": "ada", "mentor": "olu"}
    assert_error(client.post(f"{BASE}/programmes/{pid}/adjust/", body), 400, "invalid",
                 {"programme"})  # fmt: skip
    assert_error(client.post(f"{BASE}/programmes/{pid}/publish/"), 400, "invalid", {"programme"})
    client.post(f"{BASE}/programmes/{pid}/match/")
    client.post(f"{BASE}/programmes/{pid}/publish/")
    for path, data in [
        ("match/", {}),
        ("publish/", {}),
        ("adjust/", body),
        ("members/", {"username": "olu", "role": "mentee"}),
    ]:
        response = client.post(f"{BASE}/programmes/{pid}/{path}", data)
        assert_error(response, 400, "invalid", {"programme"})
    response = client.delete(f"{BASE}/programmes/{pid}/members/ada/")
    assert_error(response, 400, "invalid", {"programme"})
    assert client.get(f"{BASE}/programmes/{pid}/").json()["n_mentees"] == 1


def test_programme_member_bad_input(runner) -> None:
    """Unknown members, roles and capacities get a 400 naming the field."""
    client = client_for(runner)
    pid = _programme(client)["id"]
    person("ada")
    for body, field in [
        ({"username": "ghost", "role": "mentee"}, "username"),
        ({"role": "mentee"}, "username"),
        ({"username": "ada", "role": "boss"}, "role"),
        ({"username": "ada", "role": "mentor", "capacity": 11}, "capacity"),
        ({"username": "ada", "role": "mentor", "capacity": "two"}, "capacity"),
    ]:
        response = client.post(f"{BASE}/programmes/{pid}/members/", body)
        assert_error(response, 400, "invalid", {field})
    assert client.get(f"{BASE}/programmes/{pid}/").json()["members"] == []


def test_programme_member_removal(runner) -> None:
    """Removing a member drops them and their proposed pair; a non-member is a 404."""
    client = client_for(runner)
    pid = _programme(client)["id"]
    mentor("olu")
    person("ada")
    _add(client, pid, "ada", "mentee")
    _add(client, pid, "olu", "mentor")
    assert len(client.post(f"{BASE}/programmes/{pid}/match/").json()["matches"]) == 1
    response = client.delete(f"{BASE}/programmes/{pid}/members/olu/")
    assert response.status_code == 204
    data = client.get(f"{BASE}/programmes/{pid}/").json()
    assert [m["username"] for m in data["members"]] == ["ada"]
    assert data["matches"] == []
    for name in ("olu", "ghost"):
        response = client.delete(f"{BASE}/programmes/{pid}/members/{name}/")
        assert_error(response, 404, "not_found", set())


def test_programme_adjust_bad_input(runner) -> None:
    """Adjustments naming non-members, full mentors or no shared language get 400."""
    client = client_for(runner)
    pid = _programme(client)["id"]
    mentor("olu")
    mentor("yuki", languages=("ja",))
    for name in ("ada", "bayo"):
        person(name)
        _add(client, pid, name, "mentee")
    _add(client, pid, "olu", "mentor", 2)
    _add(client, pid, "yuki", "mentor", 1)
    person("outsider")
    client.post(f"{BASE}/programmes/{pid}/match/")
    assert len(client.get(f"{BASE}/programmes/{pid}/").json()["matches"]) == 2
    _add(client, pid, "olu", "mentor", 1)  # now full with one of the two
    before = client.get(f"{BASE}/programmes/{pid}/").json()["matches"]
    for body, field in [
        ({"mentee": "ghost", "mentor": "olu"}, "mentee"),
        ({"mentee": "outsider", "mentor": "olu"}, "mentee"),
        ({"mentee": "olu", "mentor": "olu"}, "mentee"),
        ({"mentee": "ada", "mentor": "ghost"}, "mentor"),
        ({"mentee": "ada", "mentor": "bayo"}, "mentor"),
        ({"mentee": "ada", "mentor": "yuki"}, "mentor"),
        ({"mentee": "ada", "mentor": "olu"}, "mentor"),
        ({"mentee": "ada"}, "mentor"),
    ]:
        response = client.post(f"{BASE}/programmes/{pid}/adjust/", body)
        assert_error(response, 400, "invalid", {field})
    assert client.get(f"{BASE}/programmes/{pid}/").json()["matches"] == before


# --- the schema ---------------------------------------------------------------------------------
def test_schema_validates_and_documents_mentoring(api_client, db) -> None:
    """The OpenAPI schema is valid and documents every mentoring operation."""
    response = api_client.get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    spec = json.loads(response.content)
    validate(spec)
    paths = spec["paths"]
    expected = {
        "/api/v1/mentoring/settings/": {"get", "patch"},
        "/api/v1/mentoring/recommendations/": {"get"},
        "/api/v1/mentoring/mentorships/": {"get", "post"},
        "/api/v1/mentoring/mentorships/{id}/": {"get"},
        **{f"/api/v1/mentoring/mentorships/{{id}}/{action}/": {"post"} for action in ACTIONS},
        "/api/v1/mentoring/mentorships/{id}/goals/{goal_id}/": {"patch"},
        "/api/v1/mentoring/mentorships/{id}/meeting-times/": {"get"},
        "/api/v1/mentoring/mentorships/{id}/invite.ics": {"get"},
        "/api/v1/mentoring/programmes/": {"get", "post"},
        "/api/v1/mentoring/programmes/{id}/": {"get"},
        "/api/v1/mentoring/programmes/{id}/members/": {"post"},
        "/api/v1/mentoring/programmes/{id}/members/{username}/": {"delete"},
        "/api/v1/mentoring/programmes/{id}/match/": {"post"},
        "/api/v1/mentoring/programmes/{id}/adjust/": {"post"},
        "/api/v1/mentoring/programmes/{id}/publish/": {"post"},
    }
    for path, methods in expected.items():
        assert path in paths, path
        assert set(paths[path]) >= methods, (path, set(paths[path]))
        for method in methods:
            operation = paths[path][method]
            assert operation["tags"] == ["mentoring"]
            assert operation["operationId"].startswith("mentoring_")
            assert "401" in operation["responses"]
    invite = paths["/api/v1/mentoring/mentorships/{id}/invite.ics"]["get"]
    assert "text/calendar" in invite["responses"]["200"]["content"]
    create = paths["/api/v1/mentoring/programmes/"]["post"]["responses"]
    assert {"201", "400", "403"} <= set(create)
