"""community.selectors: who sees which members, directory filters, constant query counts."""

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client

from community.models import Profile, Skill, User
from community.selectors import MemberFilters, member_get_for_user, member_list
from tests.community.helpers import bulk_members
from tests.factories import make_member

pytestmark = pytest.mark.django_db

ANON = AnonymousUser()


def usernames(qs: object) -> list[str]:
    return [p.user.username for p in qs]  # type: ignore[attr-defined]


@pytest.fixture
def population(skills: list[Skill]) -> dict[str, Profile]:
    """Five members differing in visibility, activity, skills, country, language and role."""
    s0, s1 = skills[0].slug, skills[1].slug
    people = {
        "ada": make_member(
            "ada", display_name="Ada Okafor", headline="Upstream scientist",
            organisation="Lagos Biologics", country="NG", languages=["en", "yo"],
            roles=("professional", "mentor"), skills={s0: 4, s1: 2},
        ),
        "bola": make_member(
            "bola", display_name="Bola Adeyemi", headline="QC analyst",
            organisation="Nairobi Vaccines", country="KE", languages=["en", "sw"],
            roles=("learner",), skills={s0: 2},
        ),
        "chen": make_member(
            "chen", display_name="Chen Wei", headline="Upstream engineer",
            organisation="Lagos Biologics", country="CN", languages=["zh"],
            roles=("facilitator",), skills={s1: 3}, visibility="members",
        ),
        "dara": make_member(
            "dara", display_name="Dara Okafor", headline="Retired", country="NG",
            languages=["en"], roles=("mentor",), skills={s0: 4},
        ),
        "eli": make_member(
            "eli", display_name="Eli Mensah", headline="Regulatory affairs",
            organisation="Accra Pharma", country="GH", languages=["en", "fr"],
            roles=("professional",),
        ),
    }  # fmt: skip
    User.objects.filter(username="dara").update(is_active=False)
    return people


@pytest.fixture
def viewer(population: dict[str, Profile]) -> User:
    return population["eli"].user


# --- visibility --------------------------------------------------------------------------
def test_anonymous_sees_only_public_profiles_of_active_members(
    population: dict[str, Profile],
) -> None:
    """Anonymous visitors see public profiles only; members-only and inactive are hidden."""
    assert usernames(member_list(viewer=ANON)) == ["ada", "bola", "eli"]


def test_signed_in_member_also_sees_members_only_profiles(viewer: User) -> None:
    """A signed-in member sees members-only profiles too, but never inactive accounts."""
    assert usernames(member_list(viewer=viewer)) == ["ada", "bola", "chen", "eli"]


# --- filters -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("okafor", ["ada"]),  # display name; dara is inactive
        ("ADA", ["ada"]),  # case-insensitive
        ("upstream", ["ada", "chen"]),  # headline
        ("lagos upstream", ["ada", "chen"]),  # every word must match somewhere
        ("lagos engineer", ["chen"]),
        ("lagos qc", []),
        ("accra", ["eli"]),  # organisation
        ("bol", ["bola"]),  # username / display name substring
        ("  wei   chen  ", ["chen"]),
    ],
)
def test_member_list_search_matches_every_word(viewer: User, q: str, expected: list[str]) -> None:
    """Search words are matched, each, against name, username, headline or organisation."""
    assert usernames(member_list(viewer=viewer, filters=MemberFilters(q=q))) == expected


def test_member_list_filters_by_skill(viewer: User, skills: list[Skill]) -> None:
    """Filtering by a skill lists the members who have it, at any level."""
    assert usernames(member_list(viewer=viewer, filters=MemberFilters(skill=skills[0].slug))) == [
        "ada",
        "bola",
    ]
    assert usernames(member_list(viewer=viewer, filters=MemberFilters(skill=skills[1].slug))) == [
        "ada",
        "chen",
    ]


@pytest.mark.parametrize(
    ("skill_index", "min_level", "expected"),
    [(0, 1, ["ada", "bola"]), (0, 2, ["ada", "bola"]), (0, 3, ["ada"]), (0, 4, ["ada"]),
     (1, 3, ["chen"]), (1, 4, [])],
)  # fmt: skip
def test_member_list_filters_by_skill_and_minimum_level(
    viewer: User, skills: list[Skill], skill_index: int, min_level: int, expected: list[str]
) -> None:
    """Skill plus a minimum level lists members at that level of that very skill or above."""
    filters = MemberFilters(skill=skills[skill_index].slug, min_level=min_level)
    assert usernames(member_list(viewer=viewer, filters=filters)) == expected


@pytest.mark.parametrize(
    ("country", "expected"), [("NG", ["ada"]), ("ke", ["bola"]), ("CN", ["chen"]), ("FR", [])]
)
def test_member_list_filters_by_country(viewer: User, country: str, expected: list[str]) -> None:
    """Filtering by country (code, any case) lists that country's members."""
    assert usernames(member_list(viewer=viewer, filters=MemberFilters(country=country))) == expected


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", ["ada", "bola", "eli"]), ("sw", ["bola"]), ("zh", ["chen"]), ("de", [])],
)
def test_member_list_filters_by_language(viewer: User, language: str, expected: list[str]) -> None:
    """Filtering by language lists the members who speak it, once each."""
    filters = MemberFilters(language=language)
    assert usernames(member_list(viewer=viewer, filters=filters)) == expected


@pytest.mark.parametrize(
    ("role", "expected"),
    [("mentor", ["ada"]), ("professional", ["ada", "eli"]), ("learner", ["bola"]),
     ("facilitator", ["chen"])],
)  # fmt: skip
def test_member_list_filters_by_role(viewer: User, role: str, expected: list[str]) -> None:
    """Filtering by role lists the members who hold that role."""
    assert usernames(member_list(viewer=viewer, filters=MemberFilters(role=role))) == expected


def test_member_list_filters_combine(viewer: User, skills: list[Skill]) -> None:
    """Several filters together narrow the list to members matching all of them."""
    filters = MemberFilters(q="lagos", skill=skills[0].slug, country="NG", language="yo",
                            role="mentor")  # fmt: skip
    assert usernames(member_list(viewer=viewer, filters=filters)) == ["ada"]
    filters = MemberFilters(q="lagos", country="KE")
    assert usernames(member_list(viewer=viewer, filters=filters)) == []


def test_member_list_filters_respect_visibility(
    population: dict[str, Profile], skills: list[Skill]
) -> None:
    """Filters never reveal a members-only profile to an anonymous visitor."""
    filters = MemberFilters(skill=skills[1].slug)
    assert usernames(member_list(viewer=ANON, filters=filters)) == ["ada"]
    assert usernames(member_list(viewer=ANON, filters=MemberFilters(q="chen"))) == []


def test_member_list_is_ordered_by_display_name(db: None) -> None:
    """The directory is sorted by display name, not by username or join order."""
    make_member("zz_first", display_name="Zainab Musa")
    make_member("aa_second", display_name="Kwesi Boateng")
    make_member("mm_third", display_name="Abebe Bikila")
    names = [p.display_name for p in member_list(viewer=ANON)]
    assert names == ["Abebe Bikila", "Kwesi Boateng", "Zainab Musa"]


def test_member_list_rows_carry_skills_in_level_order(viewer: User, skills: list[Skill]) -> None:
    """Each listed member's skills come strongest first."""
    ada = next(p for p in member_list(viewer=viewer) if p.user.username == "ada")
    assert [(ps.skill.slug, ps.level) for ps in ada.skill_levels.all()] == [
        (skills[0].slug, 4),
        (skills[1].slug, 2),
    ]


# --- member_get_for_user -----------------------------------------------------------------
def test_member_get_for_user_returns_visible_member(viewer: User) -> None:
    """A visible member is found by username, in any letter case."""
    assert member_get_for_user(username="ADA", viewer=ANON).display_name == "Ada Okafor"
    assert member_get_for_user(username="chen", viewer=viewer).display_name == "Chen Wei"


@pytest.mark.parametrize(
    ("username", "signed_in"),
    [("nobody", False), ("nobody", True), ("dara", False), ("dara", True), ("chen", False)],
)
def test_member_get_for_user_hides_missing_inactive_and_hidden_alike(
    viewer: User, username: str, signed_in: bool
) -> None:
    """Missing, inactive and hidden members all raise the same Profile.DoesNotExist."""
    with pytest.raises(Profile.DoesNotExist):
        member_get_for_user(username=username, viewer=viewer if signed_in else ANON)


# --- constant query counts -----------------------------------------------------------------
def _populate(count: int) -> list[Profile]:
    """``count`` members, each with four skills and two languages."""
    return bulk_members(
        count, prefix="crowd", name="Crowd Member", roles=("learner", "mentor"),
        country="KE", languages=("en", "sw"), skills_each=4,
    )  # fmt: skip


# Anonymous: the directory runs the catalogue (areas, skills), the count, the page of
# profiles and its two prefetches (skills, languages); a member page the profile and its two
# prefetches. A signed-in viewer adds the session, the user, the time-zone lookup and the
# unread-notifications count in the header.
DIRECTORY_QUERIES = {"anonymous": 6, "member": 8}
DETAIL_QUERIES = {"anonymous": 3, "member": 5}


@pytest.mark.parametrize("count", [5, 40])
@pytest.mark.parametrize("who", ["anonymous", "member"])
def test_directory_and_member_page_query_counts_are_constant(
    client: Client, django_assert_num_queries: Any, count: int, who: str
) -> None:
    """/members/ and a member page run the same queries with 5 or 40 members with skills."""
    crowd = _populate(count)
    if who == "member":
        client.force_login(crowd[-1].user)
    with django_assert_num_queries(DIRECTORY_QUERIES[who]):
        response = client.get("/members/")
    assert response.status_code == 200
    assert response.content.decode().count('class="member-card card"') == min(count, 20)
    with django_assert_num_queries(DETAIL_QUERIES[who]):
        response = client.get("/members/crowd03/")
    assert response.status_code == 200
    assert "Crowd Member 03" in response.content.decode()
