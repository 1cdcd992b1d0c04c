"""The mentoring pages: recommendations, settings, one mentorship, programmes (no JavaScript)."""

import datetime as dt
import re
import zoneinfo
from html.parser import HTMLParser
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone
from django.utils.html import escape
from icalendar import Calendar

from community.mentoring.availability import Window
from community.mentoring.models import (
    AvailabilityWindow,
    MentoringProfile,
    Mentorship,
    MentorshipFeedback,
    MentorshipGoal,
    MentorshipSession,
    MentorshipStatus,
    MentorSkill,
    Programme,
    ProgrammeMatch,
    ProgrammeMember,
    ProgrammeStatus,
    TargetSkill,
)
from community.mentoring.services import (
    mentoring_settings_update,
    mentorship_accept,
    mentorship_complete,
    mentorship_request,
    programme_create,
    programme_match_run,
    programme_member_add,
)
from community.models import Profile, Skill, User
from community.services import profile_update
from tests.community.helpers import form_values
from tests.factories import make_member

pytestmark = pytest.mark.django_db

LAGOS = zoneinfo.ZoneInfo("Africa/Lagos")  # UTC+1, no daylight saving time
KOLKATA = zoneinfo.ZoneInfo("Asia/Kolkata")  # UTC+5:30, no daylight saving time

# Pinned query counts (they must not grow with the number of rows on the page).
HOME_QUERIES = 21
DETAIL_QUERIES = 18
SETTINGS_QUERIES = 11
PROGRAMME_QUERIES = 8
PROGRAMME_LIST_QUERIES = 6


# --- fixtures ----------------------------------------------------------------------------------
@pytest.fixture
def skills(db: None) -> list[Skill]:
    """Three active catalogue skills (from the data migration), in catalogue order."""
    found = list(Skill.objects.filter(is_active=True).order_by("area__position", "position")[:3])
    assert len(found) == 3
    return found


def make_mentor(
    username: str,
    skills: list[Skill],
    *,
    languages: tuple[str, ...] = ("en",),
    country: str = "GH",
    capacity: int = 2,
    display_name: str = "",
) -> Profile:
    """A mentor in Kolkata who mentors the first two skills, free Mon and Wed 09-12 UTC."""
    profile = make_member(
        username,
        display_name=display_name,
        roles=("professional", "mentor"),
        time_zone="Asia/Kolkata",
        languages=list(languages),
        country=country,
    )
    mentoring_settings_update(
        user=profile.user,
        data={
            "accepts_mentees": True,
            "capacity": capacity,
            "mentor_skills": {skills[0].slug: 4, skills[1].slug: 3},
            "availability": [
                Window(0, dt.time(14, 30), dt.time(17, 30)),
                Window(2, dt.time(14, 30), dt.time(17, 30)),
            ],
        },
    )
    return profile


def make_mentee(
    profile: Profile, skills: list[Skill], languages: tuple[str, ...] = ("en", "fr")
) -> Profile:
    """A mentee in Lagos who wants the first two skills, free Mon and Wed 09-12 UTC."""
    profile = profile_update(
        actor=profile.user,
        profile=profile,
        data={"languages": list(languages), "time_zone": "Africa/Lagos", "country": "NG"},
    )
    mentoring_settings_update(
        user=profile.user,
        data={
            "seeking_mentor": True,
            "goals": "Lead a tech transfer",
            "target_skills": {skills[0].slug: (1, 3), skills[1].slug: (0, 2)},
            "availability": [
                Window(0, dt.time(10), dt.time(13)),
                Window(2, dt.time(10), dt.time(13)),
            ],
        },
    )
    return profile


@pytest.fixture
def mentee(member: Profile, skills: list[Skill]) -> Profile:
    """Amina, looking for a mentor."""
    return make_mentee(member, skills)


@pytest.fixture
def mentor(other_member: Profile, skills: list[Skill]) -> Profile:
    """Kwame, mentoring the skills Amina wants."""
    profile_update(
        actor=other_member.user,
        profile=other_member,
        data={"languages": ["en"], "time_zone": "Asia/Kolkata", "country": "GH"},
    )
    mentoring_settings_update(
        user=other_member.user,
        data={
            "accepts_mentees": True,
            "capacity": 2,
            "offers_async": True,
            "mentor_skills": {skills[0].slug: 4, skills[1].slug: 3},
            "availability": [
                Window(0, dt.time(14, 30), dt.time(17, 30)),
                Window(2, dt.time(14, 30), dt.time(17, 30)),
            ],
        },
    )
    return Profile.objects.get(pk=other_member.pk)


@pytest.fixture
def stranger(db: None) -> Profile:
    return make_member("zara", display_name="Zara Ahmed", languages=["en"])


@pytest.fixture
def facilitator(db: None) -> Profile:
    return make_member("fola", display_name="Fola Bello", roles=("facilitator",))


@pytest.fixture
def requested(mentee: Profile, mentor: Profile) -> Mentorship:
    """Amina's open request to Kwame."""
    return mentorship_request(
        mentee=mentee.user,
        mentor=mentor.user,
        message="I run a 2000 L line.",
        goals="Scale up\nTech transfer",
    )


@pytest.fixture
def active(requested: Mentorship, mentor: Profile) -> Mentorship:
    return mentorship_accept(actor=mentor.user, mentorship=requested)


def login(client: Client, profile: Profile) -> Client:
    client.force_login(profile.user)
    return client


def as_user(profile: Profile) -> Client:
    client = Client()
    client.force_login(profile.user)
    return client


def success_messages(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request) if m.level_tag == "success"]


# --- an accessibility reader ---------------------------------------------------------------------
class _Structure(HTMLParser):
    """Headings, form controls and labels of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.h1 = 0
        self.controls: list[dict[str, str]] = []
        self.label_for: set[str] = set()
        self.label_depth = 0
        self.fieldsets: list[bool] = []  # per open fieldset: has it a legend yet?
        self.fieldsets_without_legend = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "h1":
            self.h1 += 1
        elif tag == "label":
            self.label_depth += 1
            if a.get("for"):
                self.label_for.add(a["for"])
        elif tag in {"input", "select", "textarea"}:
            if a.get("type") not in {"hidden", "submit", "button"}:
                self.controls.append({**a, "_tag": tag, "_in_label": str(self.label_depth > 0)})
        elif tag == "fieldset":
            self.fieldsets.append(False)
        elif tag == "legend" and self.fieldsets:
            self.fieldsets[-1] = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.label_depth -= 1
        elif tag == "fieldset" and self.fieldsets and not self.fieldsets.pop():
            self.fieldsets_without_legend += 1


def assert_accessible(html: str) -> None:
    """One h1; every form control is labelled; every fieldset has a legend."""
    page = _Structure()
    page.feed(html)
    assert page.h1 == 1
    for control in page.controls:
        labelled = (
            control.get("id") in page.label_for
            or control["_in_label"] == "True"
            or control.get("aria-label")
        )
        assert labelled, f"unlabelled {control}"
    assert page.fieldsets_without_legend == 0


# --- home ----------------------------------------------------------------------------------------
def test_home_explains_mentoring_to_visitors_with_a_log_in_link(client: Client) -> None:
    """A visitor learns what mentoring is and gets a log-in link that returns here."""
    response = client.get("/mentoring/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "How it works" in html
    assert 'href="/accounts/login/?next=/mentoring/"' in html
    assert "Request mentoring" not in html
    assert_accessible(html)


def test_home_suggests_mentors_with_explanations_and_a_request_form(
    member_client: Client, mentee: Profile, mentor: Profile
) -> None:
    """A mentee sees their mentor, each reason as a list item, and a form to ask them."""
    response = member_client.get("/mentoring/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Kwame Mensah" in html
    for reason in (
        "covers 2 of your 2 target skills",
        "6 h/week overlap",
        "you both speak English",
        "2 of 2 places free",
    ):
        assert f"<li>{reason}</li>" in html
    form = form_values(html, action="/mentoring/request/")
    assert form["mentor"] == ["kwame"]
    assert form["goals"] == ["Lead a tech transfer"]
    assert "csrfmiddlewaretoken" in form
    assert "Asynchronous (messages, document review)" in html
    assert_accessible(html)


def test_home_filters_mentors_by_language_country_and_skill(
    member_client: Client, mentee: Profile, mentor: Profile, skills: list[Skill]
) -> None:
    """The filters narrow the suggestions to mentors with that language, country and skill."""

    def shown(query: str) -> bool:
        html = member_client.get(f"/mentoring/?{query}").content.decode()
        return 'value="kwame"' in html

    assert shown("language=en")
    assert not shown("language=fr")
    assert shown("country=GH")
    assert not shown("country=NG")
    assert shown(f"skill={skills[0].slug}")
    assert not shown(f"skill={skills[2].slug}")


def test_home_shows_requests_to_a_mentor_with_accept_and_decline(
    client: Client, requested: Mentorship, mentor: Profile, stranger: Profile
) -> None:
    """The mentor sees the pending request with its message, Accept and Decline with a reason."""
    html = login(client, mentor).get("/mentoring/").content.decode()
    assert "Request from Amina Okafor" in html
    assert "I run a 2000 L line." in html
    assert f'action="/mentoring/m/{requested.pk}/accept/"' in html
    decline = form_values(html, action=f"/mentoring/m/{requested.pk}/decline/")
    assert decline["reason"] == [""]
    assert decline["next"] == ["/mentoring/"]
    assert_accessible(html)
    other = login(client, stranger).get("/mentoring/").content.decode()
    assert "Request from Amina Okafor" not in other
    assert f"/mentoring/m/{requested.pk}/" not in other


def test_home_lists_mentorships_on_both_sides_with_status(
    client: Client, active: Mentorship, mentee: Profile, mentor: Profile
) -> None:
    """Each person sees the mentorship under their side, linked, with its status."""
    mentee_html = login(client, mentee).get("/mentoring/").content.decode()
    link = f'<a href="/mentoring/m/{active.pk}/">'
    section = mentee_html.split("Your mentors", 1)[1].split("Your mentees", 1)[0]
    assert f"{link}Kwame Mensah</a>" in section
    assert ">Active</span>" in section
    mentor_html = login(client, mentor).get("/mentoring/").content.decode()
    section = mentor_html.split("Your mentees", 1)[1]
    assert f"{link}Amina Okafor</a>" in section


def test_request_form_sends_a_request(
    member_client: Client, mentee: Profile, mentor: Profile
) -> None:
    """Sending the form creates the request with its message and goals, then shows it."""
    response = member_client.post(
        "/mentoring/request/",
        {"mentor": "kwame", "message": "Hello Kwame", "goals": "Scale up\nFile a CAPA"},
    )
    mentorship = Mentorship.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/mentoring/m/{mentorship.pk}/"
    assert (mentorship.mentee, mentorship.mentor) == (mentee.user, mentor.user)
    assert mentorship.status == MentorshipStatus.REQUESTED
    assert (mentorship.message, mentorship.goals) == ("Hello Kwame", "Scale up\nFile a CAPA")
    assert success_messages(response) == ["Your request has been sent to Kwame Mensah."]


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"mentor": "kwame", "message": "x" * 2001}, "at most 2000 characters"),
        ({"mentor": "nobody", "message": "hi"}, "No such mentor."),
        ({"mentor": "zara", "message": "hi"}, "This member is not accepting mentees."),
        ({"mentor": "amina", "message": "hi"}, "You cannot mentor yourself."),
        ({"message": "no mentor named"}, "This field is required."),
    ],
)
def test_request_form_rejects_bad_input_and_changes_nothing(
    member_client: Client,
    mentee: Profile,
    mentor: Profile,
    stranger: Profile,
    data: dict[str, str],
    error: str,
) -> None:
    """A bad request re-renders the page with the error, status 400, and sends nothing."""
    response = member_client.post("/mentoring/request/", data)
    assert response.status_code == 400
    assert escape(error) in response.content.decode()
    assert not Mentorship.objects.exists()


def test_request_form_refuses_a_second_open_request(
    member_client: Client, requested: Mentorship
) -> None:
    """Asking the same mentor again while a request is open is refused with a clear error."""
    response = member_client.post("/mentoring/request/", {"mentor": "kwame", "message": "again"})
    assert response.status_code == 400
    assert "You already have an open request or mentorship." in response.content.decode()
    assert Mentorship.objects.count() == 1


# --- settings ------------------------------------------------------------------------------------
def settings_snapshot(user: User) -> dict[str, Any]:
    row = MentoringProfile.objects.get(user=user)
    return {
        "row": (row.accepts_mentees, row.capacity, row.formats, row.seeking_mentor, row.goals),
        "mask": bytes(row.availability_mask),
        "mentor": sorted(MentorSkill.objects.filter(user=user).values_list("skill__slug", "level")),
        "target": sorted(
            TargetSkill.objects.filter(user=user).values_list(
                "skill__slug", "current_level", "target_level"
            )
        ),
        "windows": list(
            AvailabilityWindow.objects.filter(user=user).values_list("weekday", "start", "end")
        ),
    }


def settings_form(client: Client) -> dict[str, list[str]]:
    return form_values(client.get("/mentoring/settings/").content.decode())


def test_settings_page_needs_a_login(client: Client) -> None:
    """Visitors are sent to log in before editing mentoring settings."""
    response = client.get("/mentoring/settings/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/mentoring/settings/")


def test_settings_page_shows_current_settings_and_the_time_zone(
    member_client: Client, mentee: Profile, skills: list[Skill]
) -> None:
    """The form holds the saved goals, targets and windows, 7 blank rows, and names the zone."""
    response = member_client.get("/mentoring/settings/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Times are in your time zone, Africa/Lagos" in html
    form = form_values(html)
    assert form["goals"] == ["Lead a tech transfer"]
    assert form["seeking_mentor"] == ["on"]
    assert form[f"current_{skills[0].slug}"] == ["1"]
    assert form[f"target_{skills[0].slug}"] == ["3"]
    assert form[f"target_{skills[2].slug}"] == [""]
    assert form["availability-TOTAL_FORMS"] == ["9"]
    rows = [
        (
            form[f"availability-{i}-weekday"],
            form[f"availability-{i}-start"],
            form[f"availability-{i}-end"],
        )
        for i in range(9)
    ]
    assert rows[:2] == [(["0"], ["10:00"], ["13:00"]), (["2"], ["10:00"], ["13:00"])]
    assert rows[2:] == [([""], [""], [""])] * 7
    assert "<details open>" in html  # the area holding the targets is unfolded
    assert_accessible(html)


def test_settings_page_shows_each_member_their_own_settings(
    client: Client, mentee: Profile, stranger: Profile
) -> None:
    """Another member's settings page holds their own (empty) settings, not Amina's."""
    form = settings_form(login(client, stranger))
    assert form["goals"] == [""]
    assert form["availability-TOTAL_FORMS"] == ["7"]
    assert "Times are in your time zone, UTC" in client.get("/mentoring/settings/").content.decode()


def test_settings_form_saves_everything_in_one_post(
    member_client: Client, mentee: Profile, skills: list[Skill]
) -> None:
    """One POST saves mentor settings, skills, targets and windows (24:00 = midnight)."""
    form = settings_form(member_client)
    form.update(
        {
            "accepts_mentees": ["on"],
            "capacity": ["3"],
            "offers_async": ["on"],
            f"mentor_{skills[2].slug}": ["4"],
            f"current_{skills[0].slug}": ["0"],
            f"target_{skills[0].slug}": ["1"],
            f"target_{skills[1].slug}": [""],
            "availability-1-weekday": [""],  # remove Wednesday
            "availability-1-start": [""],
            "availability-1-end": [""],
            "availability-2-weekday": ["5"],
            "availability-2-start": ["20:00"],
            "availability-2-end": ["24:00"],
        }
    )
    form.pop("offers_chat")
    response = member_client.post("/mentoring/settings/", form)
    assert response.status_code == 302
    assert response["Location"] == "/mentoring/settings/"
    assert success_messages(response) == ["Your mentoring settings have been saved."]
    saved = settings_snapshot(mentee.user)
    assert saved["row"] == (True, 3, ["video", "async"], True, "Lead a tech transfer")
    assert saved["mentor"] == [(skills[2].slug, 4)]
    assert saved["target"] == [(skills[0].slug, 0, 1)]
    assert saved["windows"] == [
        (0, dt.time(10), dt.time(13)),
        (5, dt.time(20), dt.time(0)),
    ]


BAD_SETTINGS = [
    ({"capacity": ["11"]}, "Ensure this value is less than or equal to 10."),
    ({"capacity": ["0"]}, "Ensure this value is greater than or equal to 1."),
    ({"goals": ["g" * 2001]}, "at most 2000 characters"),
    ({"current_SKILL": ["3"], "target_SKILL": ["2"]}, "must be above your current level"),
    ({"mentor_SKILL": ["9"]}, "Select a valid choice."),
    ({"availability-3-weekday": ["1"]}, "Choose a weekday, a start and an end, or none."),
    (
        {
            "availability-3-weekday": ["1"],
            "availability-3-start": ["12:00"],
            "availability-3-end": ["11:00"],
        },
        "The window must end after it starts.",
    ),
    (
        {
            "availability-3-weekday": ["1"],
            "availability-3-start": ["12:10"],
            "availability-3-end": ["13:00"],
        },
        "Use quarter hours (:00, :15, :30, :45).",
    ),
    ({"availability-3-start": ["25:00"]}, "Enter a time as HH:MM, for example 09:30."),
]


def test_settings_form_rejects_bad_input_and_saves_nothing(
    member_client: Client, mentee: Profile, skills: list[Skill]
) -> None:
    """Any invalid part re-renders the form with the error, status 400, and nothing is saved."""
    before = settings_snapshot(mentee.user)
    good = settings_form(member_client)
    good["accepts_mentees"] = ["on"]
    good[f"mentor_{skills[2].slug}"] = ["2"]
    for changes, error in BAD_SETTINGS:
        form = {**good, **{k.replace("SKILL", skills[0].slug): v for k, v in changes.items()}}
        response = member_client.post("/mentoring/settings/", form)
        assert response.status_code == 400, changes
        html = response.content.decode()
        assert escape(error) in html, changes
        assert "nothing has been saved yet" in html
        assert settings_snapshot(mentee.user) == before, changes


def test_settings_form_refuses_too_many_skills(member_client: Client, mentee: Profile) -> None:
    """Choosing more than 20 mentor skills is refused by the service and nothing is saved."""
    before = settings_snapshot(mentee.user)
    form = settings_form(member_client)
    for skill in Skill.objects.filter(is_active=True)[:21]:
        form[f"mentor_{skill.slug}"] = ["2"]
    response = member_client.post("/mentoring/settings/", form)
    assert response.status_code == 400
    assert "At most 20 skills." in response.content.decode()
    assert settings_snapshot(mentee.user) == before


# --- one mentorship ------------------------------------------------------------------------------
def test_mentorship_page_is_only_for_the_two_people(
    client: Client,
    requested: Mentorship,
    mentee: Profile,
    mentor: Profile,
    stranger: Profile,
    facilitator: Profile,
) -> None:
    """The mentee and mentor see the mentorship; anyone else gets 404, visitors log in."""
    url = f"/mentoring/m/{requested.pk}/"
    anonymous = client.get(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")
    for profile in (mentee, mentor):
        response = login(client, profile).get(url)
        assert response.status_code == 200
        assert "I run a 2000 L line." in response.content.decode()
        assert_accessible(response.content.decode())
    for profile in (stranger, facilitator):
        assert login(client, profile).get(url).status_code == 404
        assert client.get(f"{url}invite.ics?start=2030-01-07T09:00Z").status_code == 404
    assert login(client, mentee).get(f"/mentoring/m/{requested.pk + 100}/").status_code == 404


def test_requested_mentorship_offers_each_side_its_own_buttons(
    client: Client, requested: Mentorship, mentee: Profile, mentor: Profile
) -> None:
    """On a request the mentor may accept or decline, the mentee may only withdraw."""
    pk = requested.pk
    mentor_html = login(client, mentor).get(f"/mentoring/m/{pk}/").content.decode()
    assert f'action="/mentoring/m/{pk}/accept/"' in mentor_html
    assert f'action="/mentoring/m/{pk}/decline/"' in mentor_html
    assert f'action="/mentoring/m/{pk}/withdraw/"' not in mentor_html
    assert "Mentoring Amina Okafor" in mentor_html
    mentee_html = login(client, mentee).get(f"/mentoring/m/{pk}/").content.decode()
    assert f'action="/mentoring/m/{pk}/withdraw/"' in mentee_html
    assert f'action="/mentoring/m/{pk}/accept/"' not in mentee_html
    assert f'action="/mentoring/m/{pk}/decline/"' not in mentee_html
    assert "Mentored by Kwame Mensah" in mentee_html
    for html in (mentor_html, mentee_html):
        assert f"/mentoring/m/{pk}/complete/" not in html
        assert f"/mentoring/m/{pk}/goals/" not in html
        assert "Plan a meeting" not in html


def test_mentee_cannot_accept_their_own_request(
    client: Client, requested: Mentorship, mentee: Profile
) -> None:
    """A forged accept from the mentee is forbidden and leaves the request open."""
    response = login(client, mentee).post(f"/mentoring/m/{requested.pk}/accept/")
    assert response.status_code == 403
    requested.refresh_from_db()
    assert requested.status == MentorshipStatus.REQUESTED


def test_strangers_cannot_act_on_a_mentorship(
    client: Client, active: Mentorship, stranger: Profile
) -> None:
    """Every action on someone else's mentorship answers 404 and changes nothing."""
    login(client, stranger)
    pk = active.pk
    for path, data in [
        ("complete/", {}),
        ("cancel/", {}),
        ("goals/", {"title": "Hijack"}),
        ("sessions/", {"date": "2020-01-01"}),
        ("feedback/", {"rating": "1"}),
        ("decline/", {}),
    ]:
        assert client.post(f"/mentoring/m/{pk}/{path}", data).status_code == 404, path
    active.refresh_from_db()
    assert active.status == MentorshipStatus.ACTIVE
    assert not active.sessions.exists()
    assert list(active.goal_items.values_list("title", flat=True)) == ["Scale up", "Tech transfer"]


def test_mentor_declines_with_a_reason_from_the_home_page(
    client: Client, requested: Mentorship, mentor: Profile, mentee: Profile
) -> None:
    """Declining records the reason, returns to the mentoring home and the mentee sees it."""
    response = login(client, mentor).post(
        f"/mentoring/m/{requested.pk}/decline/",
        {"reason": "I am travelling this quarter", "next": "/mentoring/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/mentoring/"
    assert success_messages(response) == ["You declined the request."]
    requested.refresh_from_db()
    assert requested.status == MentorshipStatus.DECLINED
    html = login(client, mentee).get(f"/mentoring/m/{requested.pk}/").content.decode()
    assert "I am travelling this quarter" in html
    assert ">Declined</span>" in html


def test_decline_ignores_an_off_site_next_address(
    client: Client, requested: Mentorship, mentor: Profile
) -> None:
    """A "next" pointing to another site is ignored: the mentor lands on the mentorship."""
    response = login(client, mentor).post(
        f"/mentoring/m/{requested.pk}/decline/", {"next": "https://evil.example/"}
    )
    assert response["Location"] == f"/mentoring/m/{requested.pk}/"


def test_decline_with_an_overlong_reason_changes_nothing(
    client: Client, requested: Mentorship, mentor: Profile
) -> None:
    """A reason over 500 characters re-renders the page with the error and status 400."""
    response = login(client, mentor).post(
        f"/mentoring/m/{requested.pk}/decline/", {"reason": "r" * 501}
    )
    assert response.status_code == 400
    assert "at most 500 characters" in response.content.decode()
    requested.refresh_from_db()
    assert requested.status == MentorshipStatus.REQUESTED


def test_mentee_withdraws_a_request(client: Client, requested: Mentorship, mentee: Profile) -> None:
    """The mentee's withdraw button ends the request."""
    response = login(client, mentee).post(f"/mentoring/m/{requested.pk}/withdraw/")
    assert response.status_code == 302
    assert success_messages(response) == ["You withdrew your request."]
    requested.refresh_from_db()
    assert requested.status == MentorshipStatus.WITHDRAWN


def test_illegal_transition_shows_the_reason_and_changes_nothing(
    client: Client, active: Mentorship, mentor: Profile, mentee: Profile
) -> None:
    """Accepting an active mentorship or withdrawing it answers 400 with the reason."""
    response = login(client, mentor).post(f"/mentoring/m/{active.pk}/accept/")
    assert response.status_code == 400
    assert "Not possible while the mentorship is Active." in response.content.decode()
    response = login(client, mentee).post(f"/mentoring/m/{active.pk}/withdraw/")
    assert response.status_code == 400
    active.refresh_from_db()
    assert active.status == MentorshipStatus.ACTIVE


def test_mentor_at_capacity_cannot_accept(
    client: Client, mentor: Profile, mentee: Profile, skills: list[Skill]
) -> None:
    """Accepting beyond the mentor's capacity is refused with the reason."""
    mentoring_settings_update(user=mentor.user, data={"capacity": 1})
    first = make_mentee(make_member("ngozi"), skills, languages=("en",))
    mentorship_accept(
        actor=mentor.user, mentorship=mentorship_request(mentee=first.user, mentor=mentor.user)
    )
    mentoring_settings_update(user=mentor.user, data={"capacity": 2})
    second = mentorship_request(mentee=mentee.user, mentor=mentor.user)
    mentoring_settings_update(user=mentor.user, data={"capacity": 1})
    response = login(client, mentor).post(f"/mentoring/m/{second.pk}/accept/")
    assert response.status_code == 400
    assert "You are at your capacity of 1 mentees." in response.content.decode()
    second.refresh_from_db()
    assert second.status == MentorshipStatus.REQUESTED


def test_goal_progress_and_session_forms_reject_bad_input(
    client: Client, active: Mentorship, mentee: Profile
) -> None:
    """Empty goals, progress over 100% and future sessions are refused with status 400."""
    login(client, mentee)
    pk = active.pk
    goal = active.goal_items.first()
    assert goal is not None
    tomorrow_but_one = timezone.localdate() + dt.timedelta(days=3)
    cases = [
        (f"/mentoring/m/{pk}/goals/", {"title": "  "}, "This field is required."),
        (f"/mentoring/m/{pk}/goals/", {"title": "t" * 201}, "at most 200 characters"),
        (f"/mentoring/m/{pk}/goals/{goal.pk}/", {"progress": "150"}, "less than or equal to 100"),
        (f"/mentoring/m/{pk}/goals/{goal.pk}/", {"progress": "half"}, "Enter a whole number."),
        (f"/mentoring/m/{pk}/sessions/", {"date": "soon"}, "Enter a valid date."),
        (
            f"/mentoring/m/{pk}/sessions/",
            {"date": tomorrow_but_one.isoformat()},
            "Log sessions that have happened.",
        ),
        (f"/mentoring/m/{pk}/feedback/", {"rating": "5"}, "Not possible while the mentorship is"),
    ]
    for url, data, error in cases:
        response = client.post(url, data)
        assert response.status_code == 400, url
        assert escape(error) in response.content.decode(), (url, data)
    assert client.post(f"/mentoring/m/{pk}/goals/99999/", {"progress": "5"}).status_code == 404
    active.refresh_from_db()
    assert active.goal_items.count() == 2
    assert set(active.goal_items.values_list("progress", flat=True)) == {0}
    assert not active.sessions.exists()
    assert not active.feedback.exists()


def slot_starts(html: str) -> list[dt.datetime]:
    return [
        dt.datetime.fromisoformat(s) for s in re.findall(r"invite\.ics\?start=([0-9T:\-]+Z)", html)
    ]


def test_scheduling_helper_shows_times_in_both_zones_with_invites(
    client: Client, active: Mentorship, mentee: Profile, mentor: Profile
) -> None:
    """Each proposed time falls in both availabilities and is shown in Lagos and Kolkata."""
    html = login(client, mentee).get(f"/mentoring/m/{active.pk}/").content.decode()
    assert "Amina Okafor's time (Africa/Lagos)" in html
    assert "Kwame Mensah's time (Asia/Kolkata)" in html
    starts = slot_starts(html)
    assert len(starts) >= 4  # Mondays and Wednesdays of the next two weeks
    rows = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0].split("<tr>")[1:]
    for start, row in zip(starts, rows, strict=True):
        assert start.weekday() in (0, 2)  # Monday or Wednesday, both free 09:00-12:00 UTC
        assert dt.time(9) <= start.time() <= dt.time(11)
        lagos, kolkata = start.astimezone(LAGOS), start.astimezone(KOLKATA)
        for local in (lagos, kolkata):
            end = local + dt.timedelta(hours=1)
            shown = f"{local:%a} {local.day} {local:%b}, {local:%H:%M}</time>\u2013{end:%H:%M}"
            assert shown in row
        assert start > timezone.now() - dt.timedelta(minutes=30)


def test_invite_link_returns_an_ics_event(
    client: Client, active: Mentorship, mentee: Profile
) -> None:
    """The invite link downloads a calendar event at that time, one hour, naming both people."""
    login(client, mentee)
    html = client.get(f"/mentoring/m/{active.pk}/").content.decode()
    start = slot_starts(html)[0]
    response = client.get(f"/mentoring/m/{active.pk}/invite.ics?start={start:%Y-%m-%dT%H:%MZ}")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    events = Calendar.from_ical(response.content).walk("VEVENT")
    assert len(events) == 1
    event = events[0]
    assert event.decoded("dtstart") == start
    assert event.decoded("dtend") == start + dt.timedelta(hours=1)
    assert "Amina Okafor" in str(event["summary"])
    assert "Kwame Mensah" in str(event["summary"])


@pytest.mark.parametrize(
    "query",
    ["", "?start=tomorrow", "?start=2030-01-07T09:00", "?start=2030-01-07T09:00Z&minutes=0"],
)
def test_invite_rejects_a_bad_start(
    client: Client, active: Mentorship, mentee: Profile, query: str
) -> None:
    """A missing, malformed or zone-less start, or a silly length, answers 400."""
    response = login(client, mentee).get(f"/mentoring/m/{active.pk}/invite.ics{query}")
    assert response.status_code == 400


def test_invite_is_only_for_active_mentorships(
    client: Client, requested: Mentorship, mentee: Profile
) -> None:
    """No invite can be made for a request that has not been accepted."""
    response = login(client, mentee).get(
        f"/mentoring/m/{requested.pk}/invite.ics?start=2030-01-07T09:00Z"
    )
    assert response.status_code == 400


def test_full_lifecycle_through_the_pages(
    mentee: Profile, mentor: Profile, skills: list[Skill]
) -> None:
    """Request, accept, add a goal, set progress, log a session, complete, feedback from both."""
    amina, kwame = as_user(mentee), as_user(mentor)
    home = amina.get("/mentoring/").content.decode()
    request = form_values(home, action="/mentoring/request/")
    request.update({"message": ["Could you mentor me?"], "goals": ["Scale up"]})
    response = amina.post("/mentoring/request/", request, follow=True)
    assert response.status_code == 200
    mentorship = Mentorship.objects.get()
    pk = mentorship.pk
    assert "Your request has been sent to Kwame Mensah." in response.content.decode()

    kwame_home = kwame.get("/mentoring/").content.decode()
    assert "Could you mentor me?" in kwame_home
    response = kwame.post(f"/mentoring/m/{pk}/accept/", follow=True)
    html = response.content.decode()
    assert "You accepted the request; the mentorship is active." in html
    assert "<h3>Scale up</h3>" in html
    assert "Plan a meeting" in html

    response = amina.post(f"/mentoring/m/{pk}/goals/", {"title": "Write a PPQ protocol"})
    assert response.status_code == 302
    goal = MentorshipGoal.objects.get(mentorship=mentorship, title="Write a PPQ protocol")
    response = kwame.post(f"/mentoring/m/{pk}/goals/{goal.pk}/", {"progress": "40"}, follow=True)
    assert 'value="40"' in response.content.decode()
    today = timezone.localdate().isoformat()
    response = kwame.post(
        f"/mentoring/m/{pk}/sessions/",
        {"date": today, "notes": "Reviewed the PFD", "next_steps": "Draft the URS"},
        follow=True,
    )
    html = response.content.decode()
    assert "The session has been logged." in html
    assert "Reviewed the PFD" in html
    assert "Draft the URS" in html
    assert "logged by you" in html
    assert "logged by Kwame Mensah" in amina.get(f"/mentoring/m/{pk}/").content.decode()

    response = amina.post(f"/mentoring/m/{pk}/complete/", {"reason": "Goals met"}, follow=True)
    html = response.content.decode()
    assert "The mentorship is completed. Please leave feedback." in html
    assert f'action="/mentoring/m/{pk}/feedback/"' in html
    assert f"/mentoring/m/{pk}/goals/" not in html  # no more goal forms
    assert "Kwame Mensah has not left feedback yet." in html

    for client, rating in ((amina, "5"), (kwame, "4")):
        response = client.post(f"/mentoring/m/{pk}/feedback/", {"rating": rating}, follow=True)
        html = response.content.decode()
        assert "Thank you for your feedback." in html
        assert f"You rated this mentorship {rating} out of 5." in html
        assert f'action="/mentoring/m/{pk}/feedback/"' not in html
    assert "Kwame Mensah has left feedback." in amina.get(f"/mentoring/m/{pk}/").content.decode()
    again = amina.post(f"/mentoring/m/{pk}/feedback/", {"rating": "1"})
    assert again.status_code == 400
    assert "You have already given feedback." in again.content.decode()

    mentorship.refresh_from_db()
    assert mentorship.status == MentorshipStatus.COMPLETED
    assert mentorship.end_reason == "Goals met"
    assert list(mentorship.goal_items.values_list("title", "progress")) == [
        ("Scale up", 0),
        ("Write a PPQ protocol", 40),
    ]
    assert MentorshipSession.objects.filter(mentorship=mentorship).count() == 1
    assert sorted(MentorshipFeedback.objects.values_list("author__username", "rating")) == [
        ("amina", 5),
        ("kwame", 4),
    ]


def test_cancel_ends_an_active_mentorship_and_asks_for_feedback(
    client: Client, active: Mentorship, mentor: Profile
) -> None:
    """The second button of the end form cancels; feedback with a bad rating is refused."""
    html = login(client, mentor).get(f"/mentoring/m/{active.pk}/").content.decode()
    assert f'formaction="/mentoring/m/{active.pk}/cancel/"' in html
    response = client.post(f"/mentoring/m/{active.pk}/cancel/", {"reason": ""}, follow=True)
    assert "The mentorship is cancelled. Please leave feedback." in response.content.decode()
    active.refresh_from_db()
    assert active.status == MentorshipStatus.CANCELLED
    response = client.post(f"/mentoring/m/{active.pk}/feedback/", {"rating": "6"})
    assert response.status_code == 400
    assert "Select a valid choice." in response.content.decode()
    assert not active.feedback.exists()


def test_pages_post_only_with_a_csrf_token(requested: Mentorship, mentor: Profile) -> None:
    """A POST without the CSRF token is refused and changes nothing."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(mentor.user)
    assert client.post(f"/mentoring/m/{requested.pk}/accept/").status_code == 403
    requested.refresh_from_db()
    assert requested.status == MentorshipStatus.REQUESTED


# --- programmes ----------------------------------------------------------------------------------
@pytest.fixture
def cohort(
    facilitator: Profile, mentee: Profile, mentor: Profile, skills: list[Skill]
) -> Programme:
    """Fola's programme: Amina (en, fr), Ngozi (en), Kenji (ja) and Kwame (en), Ines (fr)."""
    ngozi = make_mentee(make_member("ngozi", display_name="Ngozi Eze"), skills, languages=("en",))
    kenji = make_mentee(make_member("kenji", display_name="Kenji Sato"), skills, languages=("ja",))
    ines = make_mentor("ines", skills, languages=("fr", "es"), display_name="Ines Duarte")
    programme = programme_create(actor=facilitator.user, name="Autumn cohort")
    for profile, role in (
        (mentee, "mentee"),
        (ngozi, "mentee"),
        (kenji, "mentee"),
        (mentor, "mentor"),
        (ines, "mentor"),
    ):
        programme_member_add(
            actor=facilitator.user, programme=programme, user=profile.user, role=role, capacity=1
        )
    return programme


def test_programme_pages_are_for_staff_and_facilitators(
    client: Client, member: Profile, facilitator: Profile
) -> None:
    """Members get 403 on the list and the new-programme form; facilitators and staff 200."""
    assert client.get("/mentoring/programmes/")["Location"].startswith("/accounts/login/")
    login(client, member)
    assert client.get("/mentoring/programmes/").status_code == 403
    assert client.get("/mentoring/programmes/new/").status_code == 403
    assert client.post("/mentoring/programmes/new/", {"name": "Mine"}).status_code == 403
    assert "/mentoring/programmes/" not in client.get("/mentoring/").content.decode()
    staff = User.objects.create_user(username="boss", is_staff=True)
    client.force_login(facilitator.user)
    assert 'href="/mentoring/programmes/"' in client.get("/mentoring/").content.decode()
    for user in (facilitator.user, staff):
        client.force_login(user)
        for url in ("/mentoring/programmes/", "/mentoring/programmes/new/"):
            response = client.get(url)
            assert response.status_code == 200
            assert_accessible(response.content.decode())
    assert not Programme.objects.exists()


def test_programme_is_hidden_from_everyone_but_its_owner_and_staff(
    client: Client, cohort: Programme, mentee: Profile
) -> None:
    """Another facilitator and a member get 404 on the programme and on its actions."""
    other = make_member("femi", roles=("facilitator",))
    url = f"/mentoring/programmes/{cohort.pk}/"
    assert client.get(url)["Location"].startswith("/accounts/login/")
    for profile in (other, mentee):
        login(client, profile)
        assert client.get(url).status_code == 404
        assert client.post(f"{url}match/").status_code == 404
        assert client.post(f"{url}publish/").status_code == 404
        assert (
            client.post(
                f"{url}members/", {"username": "zed", "role": "mentee", "capacity": "1"}
            ).status_code
            == 404
        )
    listing = login(client, other).get("/mentoring/programmes/").content.decode()
    assert "Autumn cohort" not in listing
    client.force_login(User.objects.create_user(username="boss", is_staff=True))
    assert client.get(url).status_code == 200
    cohort.refresh_from_db()
    assert cohort.status == ProgrammeStatus.DRAFT
    assert not ProgrammeMatch.objects.exists()


def test_new_programme_form_creates_a_programme(client: Client, facilitator: Profile) -> None:
    """A valid form creates the programme and opens it; a blank name is refused with 400."""
    login(client, facilitator)
    response = client.post("/mentoring/programmes/new/", {"name": " ", "description": "x"})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    response = client.post("/mentoring/programmes/new/", {"name": "n" * 121})
    assert response.status_code == 400
    assert not Programme.objects.exists()
    response = client.post(
        "/mentoring/programmes/new/", {"name": "Spring cohort", "description": "QC analysts"}
    )
    programme = Programme.objects.get()
    assert response["Location"] == f"/mentoring/programmes/{programme.pk}/"
    assert (programme.name, programme.owner) == ("Spring cohort", facilitator.user)
    html = client.get("/mentoring/programmes/").content.decode()
    assert f'<a href="/mentoring/programmes/{programme.pk}/">Spring cohort</a>' in html


def test_programme_members_are_added_and_removed_by_username(
    client: Client, facilitator: Profile, mentor: Profile, stranger: Profile
) -> None:
    """The owner adds a mentor with places and a mentee, refuses bad input, removes one."""
    programme = programme_create(actor=facilitator.user, name="Pilot")
    url = f"/mentoring/programmes/{programme.pk}/"
    login(client, facilitator)
    response = client.post(
        f"{url}members/", {"username": "kwame", "role": "mentor", "capacity": "3"}, follow=True
    )
    assert "Kwame Mensah has been added to the programme." in response.content.decode()
    client.post(f"{url}members/", {"username": "zara", "role": "mentee", "capacity": "1"})
    for data, error in [
        ({"username": "ghost", "role": "mentee", "capacity": "1"}, "No member has this username."),
        ({"username": "zara", "role": "boss", "capacity": "1"}, "Select a valid choice."),
        ({"username": "zara", "role": "mentor", "capacity": "11"}, "less than or equal to 10"),
    ]:
        response = client.post(f"{url}members/", data)
        assert response.status_code == 400
        assert error in response.content.decode()
    members = dict(ProgrammeMember.objects.values_list("user__username", "capacity"))
    assert members == {"kwame": 3, "zara": 1}
    html = client.get(url).content.decode()
    assert "3 places" in html
    assert_accessible(html)
    response = client.post(f"{url}members/{stranger.pk}/remove/")
    assert response.status_code == 302
    assert list(ProgrammeMember.objects.values_list("user__username", flat=True)) == ["kwame"]
    assert client.post(f"{url}members/{stranger.pk}/remove/").status_code == 404


def test_matching_report_shows_scores_pairs_and_unmatched_reasons(
    client: Client, cohort: Programme, facilitator: Profile
) -> None:
    """The report gives total and mean score, matched count, explained pairs and reasons."""
    url = f"/mentoring/programmes/{cohort.pk}/"
    login(client, facilitator)
    assert "Report" not in client.get(url).content.decode()
    response = client.post(f"{url}match/", follow=True)
    html = response.content.decode()
    assert "Matching done: 2 pairs proposed." in html
    pairs = dict(ProgrammeMatch.objects.values_list("mentee__username", "mentor__username"))
    assert pairs == {"amina": "ines", "ngozi": "kwame"}
    scores = list(ProgrammeMatch.objects.values_list("score", flat=True))
    assert f'<span class="number">{sum(scores):.2f}</span>' in html
    assert f'<span class="number">{sum(scores) / 2:.2f}</span>' in html
    assert '<span class="number">2 of 3</span>' in html
    assert "Amina Okafor with Ines Duarte" in html
    assert "Ngozi Eze with Kwame Mensah" in html
    for match in ProgrammeMatch.objects.all():
        for line in match.explanation:
            assert f"<li>{escape(line)}</li>" in html
    unmatched = html.split("Unmatched mentees", 1)[1]
    assert "Kenji Sato" in unmatched
    assert "No mentor in the pool speaks a language this mentee speaks." in unmatched
    assert 'for="id_adjust_' in html
    assert "Mentor for Kenji Sato" in html
    assert_accessible(html)


def test_owner_adjusts_the_proposal_and_publishes_it(
    client: Client, cohort: Programme, facilitator: Profile
) -> None:
    """A mentee's mentor is changed with the select, bad choices refused, then published."""
    ines = User.objects.get(username="ines")
    programme_member_add(
        actor=facilitator.user, programme=cohort, user=ines, role="mentor", capacity=2
    )
    programme_match_run(actor=facilitator.user, programme=cohort)
    url = f"/mentoring/programmes/{cohort.pk}/"
    login(client, facilitator)
    users = {u.username: u.pk for u in User.objects.all()}

    def adjust(mentee: str, mentor: str | None) -> Any:
        data = {"mentee": users[mentee], "mentor": users[mentor] if mentor else ""}
        return client.post(f"{url}adjust/", data)

    refused = [
        (("ngozi", "ines"), "This mentor shares no language with the mentee."),
        (("amina", "kwame"), "This mentor&#x27;s places in the programme are full."),
        (("kwame", "ines"), "Not a mentee in this programme."),
        (("amina", "zara"), "Select a valid choice."),
    ]
    make_member("zara")
    users = {u.username: u.pk for u in User.objects.all()}
    for (mentee, mentor), error in refused:
        response = adjust(mentee, mentor)
        assert response.status_code == 400, (mentee, mentor)
        assert error in response.content.decode(), (mentee, mentor)
    before = dict(ProgrammeMatch.objects.values_list("mentee__username", "mentor__username"))
    assert before == {"amina": "ines", "ngozi": "kwame"}

    assert adjust("ngozi", None).status_code == 302
    html = client.get(url).content.decode()
    assert "a mentor with a free place shares a language" in html.split("Unmatched mentees")[1]
    response = client.post(
        f"{url}adjust/", {"mentee": users["amina"], "mentor": users["kwame"]}, follow=True
    )
    html = response.content.decode()
    assert "The proposal has been adjusted." in html
    assert "chosen by hand" in html
    unmatched = html.split("Unmatched mentees")[1]
    assert "Every mentor who shares a language with this mentee is at capacity." in unmatched

    response = client.post(f"{url}publish/", follow=True)
    html = response.content.decode()
    assert "The programme is published: 1 mentorships have started." in html
    assert f'action="{url}publish/"' not in html
    assert f'action="{url}match/"' not in html
    assert f'action="{url}members/"' not in html
    mentorship = Mentorship.objects.get()
    assert (mentorship.mentee.username, mentorship.mentor.username) == ("amina", "kwame")
    assert (mentorship.status, mentorship.programme) == (MentorshipStatus.ACTIVE, cohort)
    response = client.post(f"{url}publish/")
    assert response.status_code == 400
    assert "Run the matching before publishing." in response.content.decode()
    assert adjust("ngozi", "kwame").status_code == 400
    assert Mentorship.objects.count() == 1


def test_programme_actions_before_matching_explain_what_is_missing(
    client: Client, cohort: Programme, facilitator: Profile, mentee: Profile, mentor: Profile
) -> None:
    """Adjusting or publishing a draft answers 400 with the reason and changes nothing."""
    url = f"/mentoring/programmes/{cohort.pk}/"
    login(client, facilitator)
    response = client.post(f"{url}adjust/", {"mentee": mentee.pk, "mentor": mentor.pk})
    assert response.status_code == 400
    assert "Run the matching first." in response.content.decode()
    response = client.post(f"{url}publish/")
    assert response.status_code == 400
    assert "Run the matching before publishing." in response.content.decode()
    cohort.refresh_from_db()
    assert cohort.status == ProgrammeStatus.DRAFT
    assert not Mentorship.objects.exists()


# --- query counts --------------------------------------------------------------------------------
def page_queries(client: Client, url: str, assert_max: Any, pinned: int) -> int:
    """Queries one GET of ``url`` makes (after a first visit), at most ``pinned``."""
    assert client.get(url).status_code == 200
    with assert_max(pinned) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_home_query_count_does_not_grow(
    member_client: Client, mentee: Profile, skills: list[Skill], django_assert_max_num_queries: Any
) -> None:
    """The home page costs the same number of queries for 1 or 4 suggestions and mentorships."""
    mentoring_settings_update(user=mentee.user, data={"accepts_mentees": True, "capacity": 10})

    def grow(start: int, stop: int) -> None:
        for i in range(start, stop):
            make_mentor(f"mentor{i}", skills)
            learner = make_mentee(make_member(f"learner{i}"), skills, languages=("en",))
            mentorship = mentorship_request(mentee=learner.user, mentor=mentee.user)
            if i % 2:
                mentorship_accept(actor=mentee.user, mentorship=mentorship)

    grow(0, 1)
    small = page_queries(member_client, "/mentoring/", django_assert_max_num_queries, HOME_QUERIES)
    grow(1, 4)
    html = member_client.get("/mentoring/").content.decode()
    assert html.count('name="mentor" value="mentor') == 4
    assert html.count("Request from ") == 2
    large = page_queries(member_client, "/mentoring/", django_assert_max_num_queries, HOME_QUERIES)
    assert small == large


def test_mentorship_page_query_count_does_not_grow(
    client: Client, active: Mentorship, mentee: Profile, django_assert_max_num_queries: Any
) -> None:
    """The mentorship page costs the same for 2 or 8 goals and for 0 or 6 sessions."""
    login(client, mentee)
    url = f"/mentoring/m/{active.pk}/"
    small = page_queries(client, url, django_assert_max_num_queries, DETAIL_QUERIES)
    for i in range(6):
        client.post(f"{url}goals/", {"title": f"Goal {i}"})
        client.post(f"{url}sessions/", {"date": f"2024-05-0{i + 1}", "notes": f"n{i}"})
    completed = mentorship_complete(actor=mentee.user, mentorship=active)
    assert completed.goal_items.count() == 8
    large = page_queries(client, url, django_assert_max_num_queries, DETAIL_QUERIES)
    assert large <= small  # an ended mentorship needs no meeting suggestions
    reopened = Mentorship.objects.filter(pk=active.pk)
    reopened.update(status=MentorshipStatus.ACTIVE)
    assert page_queries(client, url, django_assert_max_num_queries, DETAIL_QUERIES) == small


def test_settings_page_query_count_does_not_grow(
    member_client: Client, mentee: Profile, skills: list[Skill], django_assert_max_num_queries: Any
) -> None:
    """The settings page costs the same for 2 or 10 windows and for 2 or 10 target skills."""
    url = "/mentoring/settings/"
    small = page_queries(member_client, url, django_assert_max_num_queries, SETTINGS_QUERIES)
    many = list(Skill.objects.filter(is_active=True)[:10])
    mentoring_settings_update(
        user=mentee.user,
        data={
            "target_skills": {s.slug: (0, 2) for s in many},
            "mentor_skills": {s.slug: 3 for s in many},
            "availability": [Window(d % 7, dt.time(6 + d), dt.time(7 + d)) for d in range(10)],
        },
    )
    large = page_queries(member_client, url, django_assert_max_num_queries, SETTINGS_QUERIES)
    assert small == large


def test_programme_pages_query_count_does_not_grow(
    client: Client,
    cohort: Programme,
    facilitator: Profile,
    skills: list[Skill],
    django_assert_max_num_queries: Any,
) -> None:
    """A programme's page and the list cost the same for small and larger cohorts."""
    login(client, facilitator)
    url = f"/mentoring/programmes/{cohort.pk}/"
    programme_match_run(actor=facilitator.user, programme=cohort)
    small = page_queries(client, url, django_assert_max_num_queries, PROGRAMME_QUERIES)
    small_list = page_queries(
        client, "/mentoring/programmes/", django_assert_max_num_queries, PROGRAMME_LIST_QUERIES
    )
    for i in range(3):
        learner = make_mentee(make_member(f"learner{i}"), skills, languages=("en",))
        coach = make_mentor(f"coach{i}", skills)
        programme_member_add(
            actor=facilitator.user, programme=cohort, user=learner.user, role="mentee"
        )
        programme_member_add(
            actor=facilitator.user, programme=cohort, user=coach.user, role="mentor", capacity=2
        )
        programme_create(actor=facilitator.user, name=f"Cohort {i}")
    programme_match_run(actor=facilitator.user, programme=cohort)
    assert ProgrammeMatch.objects.filter(programme=cohort).count() == 5
    large = page_queries(client, url, django_assert_max_num_queries, PROGRAMME_QUERIES)
    large_list = page_queries(
        client, "/mentoring/programmes/", django_assert_max_num_queries, PROGRAMME_LIST_QUERIES
    )
    assert (small, small_list) == (large, large_list)
