"""/api/v1/workshops/: lists with filters, one workshop, scheduling and editing,
registration and the waitlist, your registrations, calendar files and feed, attendance;
permissions, bad input in the one error format, the OpenAPI schema, query counts."""

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from icalendar import Calendar
from rest_framework.test import APIClient

from tests.api.helpers import assert_error
from tests.factories import SkillFactory
from tests.workshops.test_scheduling_support import (
    NEXT_YEAR,
    facilitator,
    in_future,
    learner,
    move,
    workshop,
)
from workshops import services
from workshops.models import Attendance, Registration, RegistrationStatus, Workshop

BASE = "/api/v1/workshops/"
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]


@pytest.fixture(autouse=True)
def _no_static_scan(settings) -> None:  # type: ignore[no-untyped-def]
    """Every API client loads the middleware; skip WhiteNoise's scan of static files."""
    settings.WHITENOISE_USE_FINDERS = False


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _titles(response) -> list[str]:
    assert response.status_code == 200, response.content[:500]
    return [item["title"] for item in response.json()["results"]]


def _new(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "Protein A chromatography troubleshooting",
        "description": "Back-pressure, yield loss and **leaching**.",
        "starts_at": f"{NEXT_YEAR}-03-10T09:00",
        "ends_at": f"{NEXT_YEAR}-03-10T10:15",
        "time_zone": "Asia/Seoul",
        "language": "en",
        "capacity": 25,
    }
    data.update(overrides)
    return data


# --- reading ------------------------------------------------------------------------------
def test_anyone_lists_upcoming_and_past_workshops(api_client) -> None:
    """Signed out, the list gives upcoming soonest first, and past ones on request."""
    host = facilitator()
    workshop(host, title="Later", starts_at=in_future(days=9))
    workshop(host, title="Sooner", starts_at=in_future(days=2))
    move(workshop(host, title="Done"), starts_at=in_future(days=-3))
    assert _titles(api_client.get(BASE)) == ["Sooner", "Later"]
    assert _titles(api_client.get(BASE, {"when": "past"})) == ["Done"]
    item = api_client.get(BASE).json()["results"][0]
    assert item["starts_at"].endswith("Z")
    assert item["facilitators"][0]["username"] == host.username
    assert item["your_registration"] is None


def test_list_filters_including_days_in_a_zone(api_client) -> None:
    """skill, language and date filters; the days are in the zone given (or the profile's)."""
    SkillFactory(slug="lnp-z")
    host = facilitator()
    workshop(host, title="LNP", skills=["lnp-z"],
             starts_at=dt.datetime(NEXT_YEAR, 3, 9, 23, 30, tzinfo=dt.UTC))  # fmt: skip
    workshop(host, title="Desviaciones", language="es",
             starts_at=dt.datetime(NEXT_YEAR, 3, 9, 12, tzinfo=dt.UTC))  # fmt: skip
    tenth = f"{NEXT_YEAR}-03-10"
    assert _titles(api_client.get(BASE, {"skill": "lnp-z"})) == ["LNP"]
    assert _titles(api_client.get(BASE, {"language": "es"})) == ["Desviaciones"]
    assert _titles(api_client.get(BASE, {"date_from": tenth})) == []
    in_lagos = {"date_from": tenth, "date_to": tenth, "time_zone": "Africa/Lagos"}
    assert _titles(api_client.get(BASE, in_lagos)) == ["LNP"]
    lagos_member = client_for(learner(time_zone="Africa/Lagos"))
    assert _titles(lagos_member.get(BASE, {"date_from": tenth})) == ["LNP"]


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ({"when": "someday"}, {"when"}),
        ({"language": "xx"}, {"language"}),
        ({"date_from": "10/03/2031"}, {"date_from"}),
        ({"date_from": "2031-03-10", "date_to": "2031-03-01"}, {"date_to"}),
        ({"time_zone": "Mars/Base"}, {"time_zone"}),
        ({"skill": "not a slug"}, {"skill"}),
    ],
)
def test_bad_list_filters_are_400(api_client, query, fields) -> None:
    """Bad filter values are refused in the error format, naming the parameter."""
    assert_error(api_client.get(BASE, query), 400, "invalid", fields)


def test_list_query_count_is_constant(member_api, member) -> None:
    """The list costs the same number of queries for 2 workshops as for 10."""
    SkillFactory(slug="gmp-z")
    host = facilitator()

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = member_api.get(BASE)
        assert response.status_code == 200
        return len(ctx.captured_queries)

    for _ in range(2):
        target = workshop(host, skills=["gmp-z"], facilitators=[learner().username])
        services.registration_create(workshop=target, user=member.user)
    few = count()
    for _ in range(8):
        workshop(host, skills=["gmp-z"])
    assert count() == few
    assert few <= 5  # count, page, skills, facilitators, your time zone
    results = member_api.get(BASE).json()["results"]
    assert sum(item["your_registration"] == "registered" for item in results) == 2


def test_detail_gives_seats_and_your_place_on_the_waitlist() -> None:
    """One workshop: seats left, its counts, and the viewer's own place."""
    host = facilitator()
    created = workshop(host, capacity=1, description="**Bring** your notes.")
    seated, waiting = learner(), learner()
    services.registration_create(workshop=created, user=seated)
    services.registration_create(workshop=created, user=waiting)
    body = client_for(waiting).get(f"{BASE}{created.pk}/").json()
    assert body["seats_left"] == 0
    assert (body["registered_count"], body["waitlist_count"]) == (1, 1)
    assert body["description_html"].strip() == "<p><strong>Bring</strong> your notes.</p>"
    assert body["you"] == {
        "registration": "waitlisted",
        "waitlist_position": 1,
        "is_facilitator": False,
        "can_edit": False,
        "can_register": False,
        "can_enter_room": False,
    }
    assert body["room_url"].endswith(f"/workshops/{created.pk}/room/")
    assert client_for(host).get(f"{BASE}{created.pk}/").json()["you"]["can_edit"] is True
    assert APIClient().get(f"{BASE}{created.pk}/").json()["you"] is None
    assert_error(APIClient().get(f"{BASE}99999/"), 404, "not_found")


# --- scheduling and editing ---------------------------------------------------------------
def test_facilitator_schedules_in_their_zone_and_sees_utc() -> None:
    """09:00 in Asia/Seoul is created and reported as 00:00 UTC; the zone is kept."""
    host = facilitator("seo.api", time_zone="Asia/Seoul")
    learner("co.api")
    SkillFactory(slug="protein-a-z")
    response = client_for(host).post(
        BASE, _new(skills=["protein-a-z"], facilitators=["co.api"]), format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["starts_at"] == f"{NEXT_YEAR}-03-10T00:00:00Z"
    assert body["ends_at"] == f"{NEXT_YEAR}-03-10T01:15:00Z"
    assert body["time_zone"] == "Asia/Seoul"
    assert [f["username"] for f in body["facilitators"]] == ["co.api", "seo.api"]
    assert [skill["slug"] for skill in body["skills"]] == ["protein-a-z"]
    assert body["you"]["is_facilitator"] is True
    assert Workshop.objects.get().starts_at == dt.datetime(NEXT_YEAR, 3, 10, 0, tzinfo=dt.UTC)


def test_only_facilitators_schedule_and_signed_out_is_401(api_client, member_api) -> None:
    """Signed out: 401; a learner: 403; nothing is created."""
    assert_error(api_client.post(BASE, _new(), format="json"), 401)
    assert_error(member_api.post(BASE, _new(), format="json"), 403, "permission_denied")
    assert not Workshop.objects.exists()


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"ends_at": f"{NEXT_YEAR}-03-10T08:00"}, {"ends_at"}),
        ({"starts_at": "2001-01-01T09:00", "ends_at": "2001-01-01T10:00"}, {"starts_at"}),
        ({"starts_at": "next tuesday"}, {"starts_at"}),
        ({"time_zone": "Mars/Base"}, {"time_zone"}),
        ({"capacity": 0}, {"capacity"}),
        ({"capacity": "lots"}, {"capacity"}),
        ({"language": "klingon"}, {"language"}),
        ({"skills": ["no-such-skill"]}, {"skills"}),
        ({"facilitators": ["nobody.at.all"]}, {"facilitators"}),
        ({"title": ""}, {"title"}),
        ({"colour": "red"}, {"colour"}),
    ],
)
def test_bad_workshop_input_is_400_and_creates_nothing(change, fields) -> None:
    """Each kind of bad input is a 400 in the error format naming the field."""
    response = client_for(facilitator()).post(BASE, _new(**change), format="json")
    assert_error(response, 400, "invalid", fields)
    assert not Workshop.objects.exists()


def test_only_the_workshops_facilitators_edit_it() -> None:
    """PATCH by a facilitator of it works; another member is refused and nothing changes."""
    host = facilitator()
    created = workshop(host, title="Before")
    url = f"{BASE}{created.pk}/"
    assert_error(client_for(learner()).patch(url, {"title": "Hijacked"}, format="json"), 403)
    assert_error(client_for(facilitator()).patch(url, {"title": "Hijacked"}, format="json"), 403)
    assert_error(APIClient().patch(url, {"title": "Hijacked"}, format="json"), 401)
    response = client_for(host).patch(url, {"title": "After", "capacity": 7}, format="json")
    assert response.status_code == 200
    assert (response.json()["title"], response.json()["capacity"]) == ("After", 7)
    assert_error(client_for(host).patch(url, {"capacity": -1}, format="json"), 400, "invalid")
    assert Workshop.objects.get().title == "After"


def test_facilitator_cancels_a_workshop() -> None:
    """POST .../cancel/ by a facilitator cancels it; a learner gets 403."""
    host = facilitator()
    created = workshop(host)
    url = f"{BASE}{created.pk}/cancel/"
    assert_error(client_for(learner()).post(url, {}, format="json"), 403)
    response = client_for(host).post(url, {"reason": "Trainer unwell"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"


# --- registration -------------------------------------------------------------------------
def test_register_again_and_cancel_through_the_api() -> None:
    """POST registers (201), again changes nothing (200), DELETE frees the seat (204)."""
    created = workshop(capacity=1)
    seated, waiting = learner(), learner()
    url = f"{BASE}{created.pk}/registration/"
    first = client_for(seated).post(url)
    assert first.status_code == 201
    assert first.json()["you"]["registration"] == "registered"
    assert client_for(seated).post(url).status_code == 200
    second = client_for(waiting).post(url)
    assert second.json()["you"] == {**second.json()["you"], "registration": "waitlisted",
                                    "waitlist_position": 1}  # fmt: skip
    assert client_for(seated).delete(url).status_code == 204
    assert Registration.objects.get(user=waiting).status == RegistrationStatus.REGISTERED
    assert_error(client_for(seated).delete(url), 404, "not_found")
    assert_error(APIClient().post(url), 401)


def test_registration_refusals_are_400() -> None:
    """A cancelled workshop and one's own workshop refuse registration, in the error format."""
    host = facilitator()
    created = workshop(host)
    assert_error(client_for(host).post(f"{BASE}{created.pk}/registration/"), 400, "invalid",
                 {"workshop"})  # fmt: skip
    services.workshop_cancel(actor=host, workshop=created)
    response = client_for(learner()).post(f"{BASE}{created.pk}/registration/")
    assert_error(response, 400, "invalid", {"workshop"})
    assert_error(client_for(learner()).post(f"{BASE}999999/registration/"), 404)


def test_my_registrations_lists_only_mine_with_waitlist_places() -> None:
    """The list holds the member's own upcoming registrations and waitlist positions."""
    host = facilitator()
    full = workshop(host, title="Full", capacity=1, starts_at=in_future(days=2))
    roomy = workshop(host, title="Roomy", starts_at=in_future(days=4))
    old = workshop(host, title="Old")
    me, other = learner(), learner()
    services.registration_create(workshop=full, user=other)
    for target in (full, roomy, old):
        services.registration_create(workshop=target, user=me)
    services.registration_create(workshop=roomy, user=learner())
    move(old, starts_at=in_future(days=-1))
    response = client_for(me).get(f"{BASE}registrations/")
    assert response.status_code == 200
    rows = [(r["workshop"]["title"], r["status"], r["waitlist_position"])
            for r in response.json()["results"]]  # fmt: skip
    assert rows == [("Full", "waitlisted", 1), ("Roomy", "registered", None)]
    assert_error(APIClient().get(f"{BASE}registrations/"), 401)


# --- calendar, feed, attendance -----------------------------------------------------------
def test_ics_and_feed_through_the_api(api_client) -> None:
    """The .ics parses back with UTC times; the feed URL is private and can be reset."""
    host = facilitator(time_zone="Asia/Seoul")
    created = services.workshop_create(
        actor=host,
        title="mRNA-LNP formulation basics",
        starts_at=dt.datetime(NEXT_YEAR, 3, 10, 9),
        ends_at=dt.datetime(NEXT_YEAR, 3, 10, 10),
    )
    response = api_client.get(f"{BASE}{created.pk}/calendar.ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    (event,) = Calendar.from_ical(response.content).walk("VEVENT")
    assert event.decoded("DTSTART") == dt.datetime(NEXT_YEAR, 3, 10, 0, tzinfo=dt.UTC)
    assert str(event["UID"]) == f"workshop-{created.pk}@workforce-hub"
    assert_error(api_client.get(f"{BASE}999999/calendar.ics"), 404)

    me = client_for(host)
    url = me.get(f"{BASE}calendar-feed/").json()["url"]
    assert me.get(f"{BASE}calendar-feed/").json()["url"] == url
    feed = api_client.get(url)
    assert feed.status_code == 200
    assert "mRNA-LNP formulation basics" in feed.content.decode()
    new_url = me.post(f"{BASE}calendar-feed/").json()["url"]
    assert new_url != url
    assert api_client.get(url).status_code == 404
    assert_error(api_client.get(f"{BASE}calendar-feed/"), 401)


def test_attendance_for_facilitators_only() -> None:
    """The attendance report is for the workshop's facilitators; overlapping stays once."""
    host = facilitator()
    created = workshop(host)
    member = learner()
    services.registration_create(workshop=created, user=member)
    t0 = created.starts_at
    for begin, end in ((0, 20), (10, 30)):
        Attendance.objects.create(
            workshop=created,
            user=member,
            joined_at=t0 + dt.timedelta(minutes=begin),
            left_at=t0 + dt.timedelta(minutes=end),
        )
    url = f"{BASE}{created.pk}/attendance/"
    assert_error(client_for(member).get(url), 403)
    (row,) = client_for(host).get(url).json()
    assert (row["username"], row["minutes"], row["registration"]) == (
        member.username,
        30,
        "registered",
    )
    assert row["first_join"] == t0.strftime("%Y-%m-%dT%H:%M:%SZ")


# --- the schema ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    with django_db_blocker.unblock():
        response = APIClient().get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    return dict(response.json())


def test_errors_the_workshop_api_answers_are_documented(schema) -> None:
    """Every error status a workshops operation answers with is in its schema responses."""
    host = facilitator()
    created = workshop(host)
    anon, member = APIClient(), client_for(learner())
    one = f"{BASE}{created.pk}/"
    cases = [
        ("workshops_list", lambda: anon.get(BASE, {"when": "x"}), 400),
        ("workshops_list", lambda: anon.get(BASE, {"page": 99}), 404),
        ("workshops_create", lambda: anon.post(BASE, {}, format="json"), 401),
        ("workshops_create", lambda: member.post(BASE, {}, format="json"), 403),
        ("workshops_create", lambda: client_for(host).post(BASE, {}, format="json"), 400),
        ("workshops_retrieve", lambda: anon.get(f"{BASE}0/"), 404),
        ("workshops_partial_update", lambda: member.patch(one, {}, format="json"), 403),
        ("workshops_partial_update", lambda: anon.patch(one, {}, format="json"), 401),
        ("workshops_cancel", lambda: member.post(f"{one}cancel/", {}, format="json"), 403),
        ("workshops_registration_create", lambda: anon.post(f"{one}registration/"), 401),
        ("workshops_registration_create",
         lambda: client_for(host).post(f"{one}registration/"), 400),
        ("workshops_registration_destroy", lambda: member.delete(f"{one}registration/"), 404),
        ("workshops_registrations_list", lambda: anon.get(f"{BASE}registrations/"), 401),
        ("workshops_calendar", lambda: anon.get(f"{BASE}0/calendar.ics"), 404),
        ("workshops_calendar_feed_retrieve", lambda: anon.get(f"{BASE}calendar-feed/"), 401),
        ("workshops_attendance", lambda: member.get(f"{one}attendance/"), 403),
    ]  # fmt: skip
    by_id = {
        operation["operationId"]: operation
        for item in schema["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    }
    for operation_id, request, status in cases:
        assert_error(request(), status)
        assert str(status) in by_id[operation_id]["responses"], (operation_id, status)
    workshop_paths = [path for path in schema["paths"] if path.startswith(BASE)]
    assert f"{BASE}{{id}}/registration/" in workshop_paths
    assert f"{BASE}{{id}}/calendar.ics" in workshop_paths
