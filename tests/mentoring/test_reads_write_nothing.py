"""Reading mentoring data never writes: members who have saved no mentoring settings are
scored with the defaults in memory, and no MentoringProfile row appears on a GET."""

import datetime as dt

import pytest
from rest_framework.test import APIClient

from community.mentoring import services
from community.mentoring.availability import Window
from community.mentoring.models import MentoringProfile, Mentorship, MentorshipStatus, Programme
from community.mentoring.selectors import cohort_inputs, mentee_needs, mentor_offer
from community.models import User
from tests.factories import make_member

BASE = "/api/v1/mentoring"
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]


@pytest.fixture(autouse=True)
def _no_static_scan(settings) -> None:  # type: ignore[no-untyped-def]
    settings.WHITENOISE_USE_FINDERS = False


def _person(username: str, *, time_zone: str = "UTC", languages: tuple[str, ...] = ("en",)) -> User:
    """A member who has never opened the mentoring settings."""
    return make_member(username, time_zone=time_zone, languages=list(languages)).user


def _client(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _no_settings(*users: User) -> None:
    assert not MentoringProfile.objects.filter(user__in=users).exists()


def _cohort(runner: User, mentees: list[User], mentors: list[User]) -> Programme:
    programme = services.programme_create(actor=runner, name="Read-only cohort")
    for user in mentees:
        services.programme_member_add(actor=runner, programme=programme, user=user, role="mentee")
    for user in mentors:
        services.programme_member_add(
            actor=runner, programme=programme, user=user, role="mentor", capacity=2
        )
    return programme


@pytest.fixture
def runner() -> User:
    return make_member("fola.reads", roles=("facilitator",)).user


def test_recommendations_get_creates_no_settings_row() -> None:
    """A member with no mentoring settings asks for recommendations: answered, nothing
    written."""
    mentor = _person("olu.reads")
    services.mentoring_settings_update(user=mentor, data={"accepts_mentees": True})
    mentee = _person("nadia.reads", time_zone="Africa/Lagos")
    response = _client(mentee).get(f"{BASE}/recommendations/")
    assert response.status_code == 200, response.content
    assert [item["mentor"]["username"] for item in response.json()] == ["olu.reads"]
    _no_settings(mentee)


def test_programme_report_get_creates_no_settings_rows(runner: User) -> None:
    """The programme page scores its unmatched mentees without writing settings for them
    or for the mentors."""
    speaks_en = [_person("ada.reads"), _person("bo.reads")]
    speaks_ja = _person("yuki.reads", languages=("ja",))  # shares no language: unmatched
    mentors = [_person("kofi.reads")]
    programme = _cohort(runner, [*speaks_en, speaks_ja], mentors)
    services.programme_match_run(actor=runner, programme=programme)
    _no_settings(*speaks_en, speaks_ja, *mentors)
    rows_before = MentoringProfile.objects.count()

    response = _client(runner).get(f"{BASE}/programmes/{programme.pk}/")

    assert response.status_code == 200, response.content
    report = response.json()["report"]
    assert report["matched"] == 2
    assert [u["username"] for u in report["unmatched"]] == ["yuki.reads"]
    assert MentoringProfile.objects.count() == rows_before
    _no_settings(*speaks_en, speaks_ja, *mentors)


def test_meeting_times_get_creates_no_settings_rows(runner: User) -> None:
    """A mentorship from a programme, between two members without settings: asking for
    meeting times answers (no shared availability yet) and writes nothing."""
    mentee, mentor = _person("ada.times"), _person("kofi.times")
    programme = _cohort(runner, [mentee], [mentor])
    services.programme_match_run(actor=runner, programme=programme)
    services.programme_publish(actor=runner, programme=programme)
    mentorship = Mentorship.objects.get(mentee=mentee, mentor=mentor)
    assert mentorship.status == MentorshipStatus.ACTIVE

    response = _client(mentee).get(f"{BASE}/mentorships/{mentorship.pk}/meeting-times/")

    assert response.status_code == 200, response.content
    assert response.json() == []
    _no_settings(mentee, mentor)


def test_defaults_in_memory_score_like_stored_defaults(runner: User) -> None:
    """Scoring inputs of members without settings equal those after their default
    settings are stored, whatever their time zone."""
    mentees = [_person("ada.same", time_zone="Asia/Tokyo"), _person("bo.same")]
    mentors = [_person("kofi.same", time_zone="America/Lima")]
    programme = _cohort(runner, mentees, mentors)
    # A member with settings and availability alongside, for contrast.
    busy = _person("cy.same", time_zone="Africa/Nairobi")
    windows = [Window(0, dt.time(9), dt.time(11))]
    services.mentoring_settings_update(user=busy, data={"availability": windows})
    services.programme_member_add(actor=runner, programme=programme, user=busy, role="mentee")

    in_memory = cohort_inputs(programme=programme)
    singles = (mentee_needs(user=mentees[0]), mentor_offer(user=mentors[0]))
    _no_settings(*mentees, *mentors)
    for user in [*mentees, *mentors]:
        services.mentoring_profile_get_or_create(user=user)

    assert cohort_inputs(programme=programme) == in_memory
    assert (mentee_needs(user=mentees[0]), mentor_offer(user=mentors[0])) == singles
    assert singles[1].capacity == MentoringProfile().capacity
    assert next(n for n in in_memory[0] if n.user_id == busy.pk).mask != 0
