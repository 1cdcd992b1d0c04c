"""The workshop pages (no JavaScript): lists with tabs and filters, one workshop in the
viewer's zone, registering and cancelling, scheduling and editing forms, cancelling a
workshop, and the attendance report with its CSV."""

import csv
import datetime as dt
import io
import re

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from tests.community.helpers import form_values
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

pytestmark = pytest.mark.django_db

# Pinned query counts (they must not grow with the rows on the page).
LIST_QUERIES = 11
DETAIL_QUERIES = 9


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _text(response) -> str:
    """The page's text with tags dropped and spaces collapsed."""
    body = re.sub(r"<[^>]+>", " ", response.content.decode())
    return " ".join(body.split())


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- lists --------------------------------------------------------------------------------
def test_list_shows_upcoming_by_default_and_past_on_its_tab(client) -> None:
    """Anyone sees upcoming workshops; the Past tab shows the ended ones."""
    host = facilitator(display_name="Achieng Odhiambo")
    workshop(host, title="GMP deviation investigations and CAPA")
    move(workshop(host, title="Data integrity in the QC lab"), starts_at=in_future(days=-7))
    upcoming = client.get("/workshops/")
    assert upcoming.status_code == 200
    text = _text(upcoming)
    assert "GMP deviation investigations and CAPA" in text
    assert "Data integrity in the QC lab" not in text
    assert "Achieng Odhiambo" in text
    assert 'aria-current="page">Upcoming' in upcoming.content.decode()
    past = client.get("/workshops/", {"when": "past"})
    assert "Data integrity in the QC lab" in _text(past)
    assert "GMP deviation investigations and CAPA" not in _text(past)
    assert 'aria-current="page">Past' in past.content.decode()


def test_list_filters_by_skill_language_and_dates_in_the_viewers_zone() -> None:
    """The filter form narrows by skill, language and days in the viewer's own zone."""
    SkillFactory(slug="lnp-y", name="LNP formulation")
    host = facilitator()
    workshop(host, title="mRNA-LNP formulation basics", skills=["lnp-y"],
             starts_at=dt.datetime(NEXT_YEAR, 3, 9, 23, 30, tzinfo=dt.UTC))  # fmt: skip
    workshop(host, title="Investigación de desviaciones", language="es",
             starts_at=dt.datetime(NEXT_YEAR, 3, 9, 12, 0, tzinfo=dt.UTC))  # fmt: skip
    lagos = _client(learner(time_zone="Africa/Lagos"))

    def titles(**query: str) -> set[str]:
        response = lagos.get("/workshops/", query)
        assert response.status_code == 200
        found = re.findall(r'<h3><a href="/workshops/\d+/">([^<]+)</a>', response.content.decode())
        return set(found)

    assert titles(skill="lnp-y") == {"mRNA-LNP formulation basics"}
    assert titles(language="es") == {"Investigación de desviaciones"}
    tenth = f"{NEXT_YEAR}-03-10"
    assert titles(date_from=tenth, date_to=tenth) == {"mRNA-LNP formulation basics"}
    ninth = f"{NEXT_YEAR}-03-09"
    assert titles(date_from=ninth, date_to=ninth) == {"Investigación de desviaciones"}
    bad = lagos.get("/workshops/", {"date_from": tenth, "date_to": ninth})
    assert "The end date must not be before the start date." in _text(bad)


def test_list_query_count_does_not_grow_with_workshops(django_assert_max_num_queries) -> None:
    """The list costs the same number of queries for 2 workshops as for 12."""
    SkillFactory(slug="gmp-y")
    host = facilitator()
    viewer = learner()
    client = _client(viewer)
    for _ in range(2):
        services.registration_create(workshop=workshop(host, skills=["gmp-y"]), user=viewer)
    with django_assert_max_num_queries(LIST_QUERIES):
        assert client.get("/workshops/").status_code == 200
    for _ in range(10):
        workshop(host, skills=["gmp-y"], facilitators=[learner().username])
    with django_assert_max_num_queries(LIST_QUERIES):
        response = client.get("/workshops/")
    assert response.content.decode().count('<li class="card">') == 12


# --- one workshop -------------------------------------------------------------------------
def test_viewer_in_lagos_sees_the_seoul_workshop_at_one_with_both_zones_named() -> None:
    """09:00 in Seoul shows as 01:00 Africa/Lagos, with the facilitator's own time too."""
    host = facilitator("minji", time_zone="Asia/Seoul")
    created = services.workshop_create(
        actor=host,
        title="GMP deviation investigations and CAPA",
        starts_at=dt.datetime(NEXT_YEAR, 3, 10, 9, 0),
        ends_at=dt.datetime(NEXT_YEAR, 3, 10, 10, 30),
    )
    response = _client(learner(time_zone="Africa/Lagos")).get(f"/workshops/{created.pk}/")
    assert response.status_code == 200
    text = _text(response)
    assert "10 Mar" in text
    assert "01:00 \u2013 02:30 (Africa/Lagos)" in text  # an en dash between the times
    assert "Facilitator's time (Asia/Seoul): " in text
    assert "09:00 \u2013 10:30" in text
    assert f'datetime="{NEXT_YEAR}-03-10T01:00:00+01:00"' in response.content.decode()


def test_registering_from_the_page_then_the_waitlist_then_a_freed_seat() -> None:
    """Register, the next member is waitlisted with their position, a cancel promotes them."""
    created = workshop(capacity=1, title="Aseptic process simulation")
    first, second = learner(), learner()
    url = f"/workshops/{created.pk}/"
    one, two = _client(first), _client(second)
    assert "Register" in _text(one.get(url))
    response = one.post(f"{url}register/")
    assert response.status_code == 302
    assert _messages(response) == ["You are registered."]
    page = _text(one.get(url))
    assert "You are registered." in page
    assert "Cancel my registration" in page
    assert "Join the waitlist" in _text(two.get(url))
    two.post(f"{url}register/")
    assert "You are number 1 on the waitlist." in _text(two.get(url))
    one.post(f"{url}unregister/")
    assert Registration.objects.get(user=second).status == RegistrationStatus.REGISTERED
    assert "You are registered." in _text(two.get(url))
    assert "Join the waitlist" in _text(one.get(url))  # the seat is taken again


def test_room_link_only_for_those_allowed_in(client) -> None:
    """The live-room link shows for facilitators and seated members, not for others; in an
    open workshop every signed-in member gets it."""
    host = facilitator()
    required = workshop(host, capacity=1)
    opened = workshop(host, registration_required=False)
    seated, waiting, outsider = learner(), learner(), learner()
    services.registration_create(workshop=required, user=seated)
    services.registration_create(workshop=required, user=waiting)
    link = f'href="/workshops/{required.pk}/room/"'
    for user, expected in ((host, True), (seated, True), (waiting, False), (outsider, False)):
        body = _client(user).get(f"/workshops/{required.pk}/").content.decode()
        assert (link in body) is expected, user.username
    assert link not in client.get(f"/workshops/{required.pk}/").content.decode()
    assert "Log in to register" in _text(client.get(f"/workshops/{required.pk}/"))
    body = _client(outsider).get(f"/workshops/{opened.pk}/").content.decode()
    assert f'href="/workshops/{opened.pk}/room/"' in body
    assert "Enter the live room" in body


def test_detail_page_query_count_is_pinned(django_assert_max_num_queries) -> None:
    """One workshop's page costs a fixed number of queries, however many registered."""
    host = facilitator()
    created = workshop(host, capacity=2, skills=[SkillFactory().slug])
    viewer = learner()
    for member in (learner(), learner(), viewer):
        services.registration_create(workshop=created, user=member)
    client = _client(viewer)
    with django_assert_max_num_queries(DETAIL_QUERIES):
        response = client.get(f"/workshops/{created.pk}/")
    assert "You are number 1 on the waitlist." in _text(response)


def test_unknown_workshop_is_404(client) -> None:
    """A workshop id that does not exist is a 404 page."""
    assert client.get("/workshops/424242/").status_code == 404


# --- scheduling and editing ---------------------------------------------------------------
def test_non_facilitators_cannot_open_the_scheduling_form(client) -> None:
    """Signed out: to the log-in page; a learner: 403; a facilitator: the form."""
    assert client.get("/workshops/new/").status_code == 302
    assert _client(learner()).get("/workshops/new/").status_code == 403
    assert _client(learner()).post("/workshops/new/", {"title": "x"}).status_code == 403
    assert not Workshop.objects.exists()
    assert _client(facilitator()).get("/workshops/new/").status_code == 200


def test_scheduling_form_reads_the_times_in_the_chosen_zone() -> None:
    """The form defaults to the facilitator's zone; posted times are read in the zone given."""
    host = facilitator("seo.host", time_zone="Asia/Seoul")
    learner("co.facil")
    skill = SkillFactory(slug="capa-y")
    client = _client(host)
    page = client.get("/workshops/new/")
    assert re.search(r'<option value="Asia/Seoul" selected>', page.content.decode())
    response = client.post(
        "/workshops/new/",
        {
            "title": "GMP deviation investigations and CAPA",
            "description": "**Bring** a report.",
            "starts_at": f"{NEXT_YEAR}-03-10T09:00",
            "ends_at": f"{NEXT_YEAR}-03-10T10:30",
            "time_zone": "Asia/Seoul",
            "language": "en",
            "capacity": "30",
            "registration_required": "on",
            "skills": [skill.slug],
            "facilitators": "co.facil",
        },
    )
    created = Workshop.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/workshops/{created.pk}/"
    assert created.starts_at == dt.datetime(NEXT_YEAR, 3, 10, 0, 0, tzinfo=dt.UTC)
    assert created.capacity == 30
    assert created.registration_required
    assert set(created.facilitators.values_list("username", flat=True)) == {"seo.host", "co.facil"}
    assert list(created.skills.all()) == [skill]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ends_at": f"{NEXT_YEAR}-03-10T08:00"}, "The workshop must end after it starts."),
        ({"starts_at": "2001-01-01T09:00", "ends_at": "2001-01-01T10:00"}, "in the future"),
        ({"time_zone": "Mars/Base"}, "Select a valid choice"),
        ({"starts_at": "tomorrow at nine"}, "Enter a valid date/time."),
        ({"capacity": "0"}, "greater than or equal to 1"),
        ({"facilitators": "nobody.here"}, "No member is called: nobody.here"),
    ],
)
def test_scheduling_form_errors_are_shown_and_nothing_is_saved(change, message) -> None:
    """Bad input comes back as a 400 with the error on the page; nothing is created."""
    client = _client(facilitator())
    data = {
        "title": "Protein A chromatography troubleshooting",
        "starts_at": f"{NEXT_YEAR}-03-10T09:00",
        "ends_at": f"{NEXT_YEAR}-03-10T10:00",
        "time_zone": "UTC",
        "language": "en",
        "capacity": "20",
        **change,
    }
    response = client.post("/workshops/new/", data)
    assert response.status_code == 400
    assert message in _text(response)
    assert not Workshop.objects.exists()


def test_edit_form_shows_times_in_the_workshops_zone_and_saves() -> None:
    """A facilitator edits: the form holds the times as entered; another member gets 403."""
    host = facilitator("seo.edit", time_zone="Asia/Seoul")
    created = services.workshop_create(
        actor=host,
        title="Protein A chromatography troubleshooting",
        starts_at=dt.datetime(NEXT_YEAR, 6, 1, 9, 0),
        ends_at=dt.datetime(NEXT_YEAR, 6, 1, 11, 0),
    )
    url = f"/workshops/{created.pk}/edit/"
    assert _client(learner()).get(url).status_code == 403
    assert _client(facilitator()).post(url, {"title": "Mine now"}).status_code == 403
    client = _client(host)
    page = client.get(url)
    assert f'value="{NEXT_YEAR}-06-01T09:00"' in page.content.decode()
    values = form_values(page.content.decode(), method="post", action=None)
    values["title"] = ["Protein A troubleshooting, part 1"]
    values["ends_at"] = [f"{NEXT_YEAR}-06-01T12:00"]
    response = client.post(url, values)
    assert response.status_code == 302
    created.refresh_from_db()
    assert created.title == "Protein A troubleshooting, part 1"
    assert created.starts_at == dt.datetime(NEXT_YEAR, 6, 1, 0, 0, tzinfo=dt.UTC)
    assert created.ends_at == dt.datetime(NEXT_YEAR, 6, 1, 3, 0, tzinfo=dt.UTC)


def test_facilitator_cancels_from_the_page_and_others_cannot() -> None:
    """Only a facilitator's cancel button works; the page then says it is cancelled."""
    host = facilitator()
    created = workshop(host)
    url = f"/workshops/{created.pk}/"
    assert _client(learner()).post(f"{url}cancel/").status_code == 403
    assert "Cancel the workshop" in _text(_client(host).get(url))
    response = _client(host).post(f"{url}cancel/", {"reason": "Trainer unwell."})
    assert response.status_code == 302
    created.refresh_from_db()
    assert created.status == "cancelled"
    page = _text(_client(learner()).get(url))
    assert "This workshop has been cancelled." in page
    assert "Registration is closed." in page


# --- attendance ---------------------------------------------------------------------------
def _attended_workshop() -> tuple[Workshop, object, object]:
    host = facilitator(display_name="Ciarán Walsh")
    created = workshop(host, capacity=5)
    ama = learner("ama", display_name="=Ama Mensah")
    services.registration_create(workshop=created, user=ama)
    services.registration_create(workshop=created, user=learner("no.show", display_name="Absent"))
    start = timezone.now() - dt.timedelta(hours=3)
    move(created, starts_at=start, minutes=120)
    for begin, end in ((0, 50), (40, 70)):
        Attendance.objects.create(
            workshop=created,
            user=ama,
            joined_at=start + dt.timedelta(minutes=begin),
            left_at=start + dt.timedelta(minutes=end),
        )
    return created, host, ama


def test_attendance_page_for_facilitators_only() -> None:
    """Facilitators see each participant's minutes (overlaps once); others get 403."""
    created, host, ama = _attended_workshop()
    url = f"/workshops/{created.pk}/attendance/"
    assert _client(ama).get(url).status_code == 403
    assert _client(facilitator()).get(url).status_code == 403
    response = _client(host).get(url)
    assert response.status_code == 200
    rows = re.findall(r"<tr>(.*?)</tr>", response.content.decode(), re.S)
    cells = {
        re.sub(r"<[^>]+>", "", row).split()[0]: " ".join(re.sub(r"<[^>]+>", " ", row).split())
        for row in rows[1:]
    }
    assert cells["=Ama"].endswith(" 70")
    assert "did not attend" in cells["Absent"]
    assert "1 person was in the live room." in _text(response)


def test_attendance_csv_download() -> None:
    """The CSV has one row per participant with minutes, safe to open in a spreadsheet."""
    created, host, ama = _attended_workshop()
    url = f"/workshops/{created.pk}/attendance.csv"
    assert _client(ama).get(url).status_code == 403
    response = _client(host).get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    by_user = {row["username"]: row for row in rows}
    assert set(by_user) == {"ama", "no.show"}
    assert by_user["ama"]["minutes"] == "70"
    assert by_user["ama"]["name"] == "'=Ama Mensah"  # no formula injection
    assert by_user["ama"]["first_join"].startswith(str(created.starts_at.year))
    assert by_user["no.show"]["minutes"] == "0"
    assert by_user["no.show"]["first_join"] == ""
