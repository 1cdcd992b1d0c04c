"""The member directory costs the same number of queries however many members it shows."""

import pytest
from rest_framework.test import APIClient

from tests.factories import SkillFactory, make_member

# count, the page of profiles (with users), their skills (with skill rows), their languages
LIST_QUERIES = 4


@pytest.fixture
def crowd(db):  # type: ignore[no-untyped-def]
    """A factory of members, each with three skills and two languages."""
    skills = [SkillFactory(slug=f"api-q-skill-{n}", name=f"Query skill {n}") for n in range(3)]

    def make(count: int) -> None:
        for n in range(count):
            make_member(
                f"crowd{n:02d}",
                country="KE",
                languages=["en", "sw"],
                skills={skill.slug: 1 + (n + i) % 4 for i, skill in enumerate(skills)},
            )

    return make


@pytest.mark.parametrize("members", [3, 30])
def test_member_list_query_count_does_not_grow(crowd, members, django_assert_num_queries) -> None:
    """Listing 3 or 30 members (with skills and languages) takes the same few queries."""
    crowd(members)
    client = APIClient()
    with django_assert_num_queries(LIST_QUERIES):
        response = client.get("/api/v1/members/", {"page_size": 100})
    results = response.json()["results"]
    assert len(results) == members
    assert all(len(r["skills"]) == 3 and r["languages"] == ["en", "sw"] for r in results)


@pytest.mark.parametrize("members", [3, 30])
def test_filtered_member_list_query_count_does_not_grow(
    crowd, members, member, django_assert_num_queries
) -> None:
    """A signed-in, filtered listing is just as flat in queries."""
    crowd(members)
    client = APIClient()
    client.force_authenticate(member.user)
    params = {"skill": "api-q-skill-0", "language": "sw", "country": "KE", "page_size": 100}
    with django_assert_num_queries(LIST_QUERIES):
        response = client.get("/api/v1/members/", params)
    assert response.json()["count"] == members


def test_member_detail_and_areas_query_counts_are_fixed(crowd, django_assert_num_queries) -> None:
    """A profile (with its skills and languages) and the catalogue cost a fixed few queries."""
    crowd(3)
    client = APIClient()
    with django_assert_num_queries(3):  # the profile with user, its skills, its languages
        assert client.get("/api/v1/members/crowd00/").status_code == 200
    with django_assert_num_queries(2):  # the areas, their skills
        assert client.get("/api/v1/catalogue/areas/").status_code == 200
