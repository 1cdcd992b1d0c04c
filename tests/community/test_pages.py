"""The community's HTML pages: home, catalogue, directory, member pages, profile editing."""

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils.html import escape

from community.models import CompetencyArea, Profile, Skill, User
from tests.community.helpers import bulk_members, form_values, profile_snapshot
from tests.factories import make_member

pytestmark = pytest.mark.django_db

CARD_LINK = re.compile(r'<li class="member-card card">\s*<h2><a href="/members/([^/"]+)/">')


def cards(html: str) -> list[str]:
    """Usernames of the member cards on a directory page, in order."""
    return CARD_LINK.findall(html)


# --- home and catalogue --------------------------------------------------------------------
def test_home_page_shows_invitation_and_community_numbers(client: Client) -> None:
    """The home page invites visitors to join and counts members, countries and mentors."""
    make_member("h1", country="KE", roles=("mentor",))
    make_member("h2", country="NG", roles=("learner",), visibility="members")
    make_member("h3", country="KE", roles=("mentor", "professional"))
    User.objects.filter(username="h3").update(is_active=False)
    html = client.get("/").content.decode()
    assert "Join the hub" in html
    assert re.search(r"<dt>Members</dt><dd>2</dd>", html)
    assert re.search(r"<dt>Countries</dt><dd>2</dd>", html)
    assert re.search(r"<dt>Mentors</dt><dd>1</dd>", html)
    skills = Skill.objects.filter(is_active=True).count()
    assert re.search(rf"<dt>Skills in the catalogue</dt><dd>{skills}</dd>", html)


def test_home_page_for_a_member_has_no_sign_up_button(member_client: Client) -> None:
    """A signed-in member sees a log-out button and their profile link, not "Join the hub"."""
    html = member_client.get("/").content.decode()
    assert "Join the hub" not in html
    assert 'href="/members/amina/"' in html
    assert "Log out" in html


def test_catalogue_page_lists_every_area_and_active_skill(client: Client) -> None:
    """The catalogue shows all 12 areas and every active skill with its description."""
    retired = Skill.objects.order_by("pk").last()
    assert retired is not None
    Skill.objects.filter(pk=retired.pk).update(is_active=False, name="Retired skill xyz")
    response = client.get("/catalogue/")
    assert response.status_code == 200
    html = response.content.decode()
    areas = list(CompetencyArea.objects.all())
    assert len(areas) == 12
    for area in areas:
        assert f'<h2 id="area-{area.slug}">{escape(area.name)}</h2>' in html
    for skill in Skill.objects.filter(is_active=True):
        assert f'href="/members/?skill={skill.slug}">{escape(skill.name)}</a>' in html
        assert f"<dd>{escape(skill.description)}</dd>" in html
    assert "Retired skill xyz" not in html


# --- directory -----------------------------------------------------------------------------
@pytest.fixture
def directory(skills: list[Skill]) -> None:
    s0, s1 = skills[0].slug, skills[1].slug
    make_member("ada", display_name="Ada Okafor", headline="Upstream scientist",
                organisation="Lagos Biologics", country="NG", languages=["en", "yo"],
                roles=("professional", "mentor"), skills={s0: 4, s1: 2})  # fmt: skip
    make_member("bola", display_name="Bola Adeyemi", headline="QC analyst",
                country="KE", languages=["en", "sw"], roles=("learner",),
                skills={s0: 2})  # fmt: skip
    make_member("chen", display_name="Chen Wei", headline="Upstream engineer",
                country="CN", languages=["zh"], roles=("facilitator",), skills={s1: 3},
                visibility="members")  # fmt: skip


def test_directory_lists_public_members_to_anonymous(client: Client, directory: None) -> None:
    """Anonymous visitors see public members only, with a count."""
    html = client.get("/members/").content.decode()
    assert cards(html) == ["ada", "bola"]
    assert "2 members found" in html


def test_directory_shows_members_only_profiles_to_members(client: Client, directory: None) -> None:
    """A signed-in member also sees members-only profiles in the directory."""
    client.force_login(User.objects.get(username="bola"))
    assert cards(client.get("/members/").content.decode()) == ["ada", "bola", "chen"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "upstream lagos"}, ["ada"]),
        ({"q": "upstream"}, ["ada", "chen"]),
        ({"skill": "S0"}, ["ada", "bola"]),
        ({"skill": "S0", "level": "3"}, ["ada"]),
        ({"skill": "S1", "level": "3"}, ["chen"]),
        ({"country": "KE"}, ["bola"]),
        ({"language": "zh"}, ["chen"]),
        ({"language": "en"}, ["ada", "bola"]),
        ({"role": "mentor"}, ["ada"]),
        ({"role": "facilitator", "country": "CN"}, ["chen"]),
        ({"role": "learner", "country": "NG"}, []),
    ],
)
def test_directory_filters_from_the_query_string(
    member_client: Client, directory: None, skills: list[Skill], params: dict, expected: list
) -> None:
    """Each directory filter works from GET parameters, alone and combined."""
    slugs = {"S0": skills[0].slug, "S1": skills[1].slug}
    query = {k: slugs.get(v, v) for k, v in params.items()}
    html = member_client.get("/members/", query).content.decode()
    assert cards(html) == expected
    if not expected:
        assert "No members match these filters." in html


def test_directory_keeps_the_chosen_filters_in_the_form(
    member_client: Client, directory: None, skills: list[Skill]
) -> None:
    """After filtering, the form shows the filters chosen."""
    html = member_client.get(
        "/members/", {"q": "upstream", "skill": skills[0].slug, "level": "3", "role": "mentor"}
    ).content.decode()
    values = form_values(html, method="get", action="/members/")
    assert values["q"] == ["upstream"]
    assert values["skill"] == [skills[0].slug]
    assert values["level"] == ["3"]
    assert values["role"] == ["mentor"]


def test_directory_paginates_and_keeps_filters_on_page_two(client: Client) -> None:
    """25 mentors fill two pages (20 + 5); the page links keep the filter."""
    bulk_members(25, prefix="mentor", name="Mentor", roles=("mentor",))
    make_member("learner_only", display_name="Aaron Learner", roles=("learner",))
    first = client.get("/members/", {"role": "mentor"}).content.decode()
    assert cards(first) == [f"mentor{i:02d}" for i in range(20)]
    assert "25 members found" in first
    assert "Page 1 of 2" in first
    assert 'href="?role=mentor&amp;page=2"' in first
    second = client.get("/members/", {"role": "mentor", "page": "2"}).content.decode()
    assert cards(second) == [f"mentor{i:02d}" for i in range(20, 25)]
    assert "Page 2 of 2" in second
    assert 'href="?role=mentor&amp;page=1"' in second
    # Without the filter the learner comes first and pushes one mentor onto page 2.
    unfiltered = client.get("/members/", {"page": "2"}).content.decode()
    assert cards(unfiltered) == [f"mentor{i:02d}" for i in range(19, 25)]


# --- member page ---------------------------------------------------------------------------
def test_member_page_shows_the_profile(client: Client, skills: list[Skill]) -> None:
    """A member page shows name, headline, organisation, country, roles, languages, bio, skills."""
    make_member(
        "ngozi", display_name="Ngozi Eze", headline="Downstream lead",
        organisation="Abuja Bio", country="NG", time_zone="Africa/Lagos",
        roles=("professional", "mentor"), languages=["en", "ig"],
        bio="I teach **chromatography**.", skills={skills[0].slug: 4, skills[1].slug: 1},
    )  # fmt: skip
    response = client.get("/members/ngozi/")
    assert response.status_code == 200
    html = response.content.decode()
    expected = [
        "Ngozi Eze", "Downstream lead", "Abuja Bio", "Nigeria", "Professional, Mentor",
        "English, Igbo", "Africa/Lagos", "<strong>chromatography</strong>",
        f'{escape(skills[0].name)}</a> <span class="muted">(Expert)</span>',
        f'{escape(skills[1].name)}</a> <span class="muted">(Awareness)</span>',
    ]  # fmt: skip
    for text in expected:
        assert text in html
    assert html.index(escape(skills[0].name)) < html.index(escape(skills[1].name))
    assert "Edit your profile" not in html


def test_member_page_offers_editing_only_to_its_owner(
    member_client: Client, other_member: Profile
) -> None:
    """Your own page links to the profile editor; another member's page does not."""
    assert "Edit your profile" in member_client.get("/members/amina/").content.decode()
    assert "Edit your profile" not in member_client.get("/members/kwame/").content.decode()


def test_hidden_profile_is_404_for_anonymous_but_shown_to_members(
    client: Client, other_member: Profile
) -> None:
    """A members-only profile is "not found" to anonymous visitors, visible to members."""
    make_member("hidden", display_name="Hidden Person", visibility="members")
    assert client.get("/members/hidden/").status_code == 404
    client.force_login(other_member.user)
    response = client.get("/members/hidden/")
    assert response.status_code == 200
    assert "Hidden Person" in response.content.decode()


def test_missing_and_inactive_members_are_404(member_client: Client) -> None:
    """Unknown and deactivated members both answer 404."""
    make_member("gone", display_name="Gone Member")
    User.objects.filter(username="gone").update(is_active=False)
    assert member_client.get("/members/gone/").status_code == 404
    assert member_client.get("/members/nobody-here/").status_code == 404


# --- profile editing -----------------------------------------------------------------------
def test_profile_edit_requires_login(client: Client, member: Profile) -> None:
    """Anonymous visitors are sent to log in; a POST from them changes nothing."""
    response = client.get("/settings/profile/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/settings/profile/"
    before = profile_snapshot(member.pk)
    response = client.post("/settings/profile/", {"display_name": "Hijacked"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert profile_snapshot(member.pk) == before


@pytest.fixture
def amina(client: Client, skills: list[Skill]) -> Profile:
    profile = make_member(
        "amina", display_name="Amina Okafor", headline="Upstream learner",
        organisation="Kano Institute", country="NG", time_zone="Africa/Lagos",
        roles=("learner",), languages=["en", "ha"], bio="Hello *there*",
        skills={skills[0].slug: 2},
    )  # fmt: skip
    client.force_login(profile.user)
    return profile


def amina_form_data(skills: list[Skill]) -> dict[str, list[str]]:
    """What the editor posts for the ``amina`` fixture when nothing is changed."""
    return {
        "display_name": ["Amina Okafor"], "headline": ["Upstream learner"],
        "organisation": ["Kano Institute"], "country": ["NG"], "time_zone": ["Africa/Lagos"],
        "bio": ["Hello *there*"], "roles": ["learner"], "languages": ["en", "ha"],
        "visibility": ["public"], f"skill_{skills[0].slug}": ["2"],
    }  # fmt: skip


def test_profile_edit_form_shows_current_values(
    client: Client, amina: Profile, skills: list[Skill]
) -> None:
    """The editor is pre-filled with the member's current profile, skills included."""
    response = client.get("/settings/profile/")
    assert response.status_code == 200
    values = form_values(response.content.decode())
    assert values["display_name"] == ["Amina Okafor"]
    assert values["headline"] == ["Upstream learner"]
    assert values["organisation"] == ["Kano Institute"]
    assert values["country"] == ["NG"]
    assert values["time_zone"] == ["Africa/Lagos"]
    assert values["bio"] == ["Hello *there*"]
    assert values["roles"] == ["learner"]
    assert sorted(values["languages"]) == ["en", "ha"]
    assert values["visibility"] == ["public"]
    assert values[f"skill_{skills[0].slug}"] == ["2"]
    assert values[f"skill_{skills[1].slug}"] == [""]
    every_skill = Skill.objects.filter(is_active=True).count()
    assert sum(1 for name in values if name.startswith("skill_")) == every_skill
    # What the other tests post for an unchanged form is what the page really holds.
    filled = {n: sorted(v) for n, v in values.items() if v not in ([], [""]) and "csrf" not in n}
    assert filled == {name: sorted(v) for name, v in amina_form_data(skills).items()}


def test_profile_edit_post_saves_everything_and_redirects(
    client: Client, amina: Profile, skills: list[Skill]
) -> None:
    """Posting the editor saves every field, languages and chosen skill levels, then shows
    the profile with a confirmation."""
    data = form_values(client.get("/settings/profile/").content.decode())
    data.update({
        "display_name": ["Amina O."], "headline": ["Process engineer"],
        "organisation": ["Abuja Bio"], "country": ["GH"], "time_zone": ["Asia/Kolkata"],
        "bio": ["Now on **perfusion**"], "visibility": ["members"],
        "roles": ["professional", "mentor"], "languages": ["fr", "en"],
        f"skill_{skills[0].slug}": [""], f"skill_{skills[1].slug}": ["3"],
        f"skill_{skills[2].slug}": ["4"],
    })  # fmt: skip
    response = client.post("/settings/profile/", data)
    assert response.status_code == 302
    assert response["Location"] == "/members/amina/"
    assert profile_snapshot(amina.pk) == {
        "display_name": "Amina O.",
        "headline": "Process engineer",
        "organisation": "Abuja Bio",
        "country": "GH",
        "time_zone": "Asia/Kolkata",
        "bio": "Now on **perfusion**",
        "bio_html": "<p>Now on <strong>perfusion</strong></p>\n",
        "visibility": "members",
        "roles": ["mentor", "professional"],
        "languages": ["en", "fr"],
        "skills": {skills[1].slug: 3, skills[2].slug: 4},
    }
    page = client.get(response["Location"]).content.decode()
    assert "Your profile has been saved." in page
    assert "Process engineer" in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("time_zone", "Mars/Olympus_Mons", "Select a valid choice"),
        ("display_name", "", "This field is required."),
        ("languages", "xx", "Select a valid choice"),
        ("SKILL", "5", "Select a valid choice"),
    ],
)
def test_profile_edit_post_invalid_shows_error_and_saves_nothing(
    client: Client, amina: Profile, skills: list[Skill], field: str, value: str, message: str
) -> None:
    """An invalid post answers 400 with the error on the page and saves nothing at all."""
    before = profile_snapshot(amina.pk)
    data = amina_form_data(skills)
    data.update({"headline": ["Changed headline"], "bio": ["changed"],
                 f"skill_{skills[3].slug}": ["3"]})  # fmt: skip
    data[f"skill_{skills[0].slug}" if field == "SKILL" else field] = [value]
    response = client.post("/settings/profile/", data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "nothing has been saved yet" in html
    assert message in html
    assert profile_snapshot(amina.pk) == before
    # The page keeps what the member typed so they can fix it.
    assert form_values(html)["headline"] == ["Changed headline"]


def test_profile_edit_cannot_reach_another_members_profile(
    client: Client, amina: Profile, other_member: Profile, skills: list[Skill]
) -> None:
    """Whatever is posted, the editor only ever changes the signed-in member's profile."""
    theirs = profile_snapshot(other_member.pk)
    data = amina_form_data(skills)
    data.update({"headline": ["Mine"], "user": [str(other_member.pk)],
                 "username": ["kwame"], "pk": [str(other_member.pk)]})  # fmt: skip
    response = client.post("/settings/profile/?username=kwame", data)
    assert response.status_code == 302
    assert response["Location"] == "/members/amina/"
    assert profile_snapshot(other_member.pk) == theirs
    assert profile_snapshot(amina.pk)["headline"] == "Mine"
    for url in ["/settings/profile/kwame/", "/members/kwame/edit/", "/members/kwame/settings/"]:
        assert client.get(url).status_code == 404
        assert client.post(url, data).status_code in {404, 405}
    assert profile_snapshot(other_member.pk) == theirs


# --- time zones ----------------------------------------------------------------------------
# 22:30 UTC on 10 March is already 11 March in Nairobi (UTC+3) and Kolkata (UTC+5:30).
JOINED = dt.datetime(2024, 3, 10, 22, 30, tzinfo=dt.UTC)


@pytest.fixture
def joined_member(db: None) -> Profile:
    profile = make_member("joined", display_name="Joined Member")
    Profile.objects.filter(pk=profile.pk).update(created_at=JOINED)
    return profile


def test_member_sees_times_in_their_own_zone(client: Client, joined_member: Profile) -> None:
    """A member whose zone is Asia/Kolkata sees that zone in the footer and dates in it."""
    viewer = make_member("kolkata", time_zone="Asia/Kolkata")
    client.force_login(viewer.user)
    client.cookies["hub_tz"] = "America/Los_Angeles"  # the profile's zone wins
    html = client.get("/members/joined/").content.decode()
    assert "Times are shown in Asia/Kolkata." in html
    assert '<time datetime="2024-03-11T04:00:00+05:30">March 11, 2024</time>' in html


def test_anonymous_sees_times_in_the_browser_zone_cookie(
    client: Client, joined_member: Profile
) -> None:
    """An anonymous visitor with cookie hub_tz=Africa/Nairobi sees times in that zone."""
    client.cookies["hub_tz"] = "Africa/Nairobi"
    html = client.get("/members/joined/").content.decode()
    assert "Times are shown in Africa/Nairobi." in html
    assert '<time datetime="2024-03-11T01:30:00+03:00">March 11, 2024</time>' in html


@pytest.mark.parametrize("cookie", ["Not/AZone", "<script>", ""])
def test_bogus_zone_cookie_falls_back_to_utc(
    client: Client, joined_member: Profile, cookie: str
) -> None:
    """A missing or bogus hub_tz cookie shows times in UTC."""
    client.cookies["hub_tz"] = cookie
    html = client.get("/members/joined/").content.decode()
    assert "Times are shown in UTC." in html
    assert '<time datetime="2024-03-10T22:30:00+00:00">March 10, 2024</time>' in html
