"""The competency catalogue: areas with their skills, and the paginated skill list."""

import json
from pathlib import Path

import pytest

from community.models import Skill
from tests.api.helpers import assert_error
from tests.factories import AreaFactory, SkillFactory

CATALOGUE = json.loads(
    (Path(__file__).resolve().parents[2] / "community" / "data" / "competencies.json").read_text(
        encoding="utf-8"
    )
)
AREAS_URL = "/api/v1/catalogue/areas/"
SKILLS_URL = "/api/v1/catalogue/skills/"


@pytest.mark.django_db
def test_areas_lists_every_shipped_area_with_its_skills_in_order(api_client) -> None:
    """Anyone gets all 12 shipped areas, in catalogue order, each with its skills nested."""
    response = api_client.get(AREAS_URL)
    assert response.status_code == 200
    areas = response.json()
    assert [area["slug"] for area in areas] == [area["slug"] for area in CATALOGUE]
    for got, shipped in zip(areas, CATALOGUE, strict=True):
        assert got["name"] == shipped["name"]
        assert got["description"] == shipped["description"]
        assert [skill["slug"] for skill in got["skills"]] == [s["slug"] for s in shipped["skills"]]
        assert set(got["skills"][0]) == {"slug", "name", "description"}
    assert sum(len(area["skills"]) for area in areas) == 84


@pytest.mark.django_db
def test_areas_leave_out_retired_skills(api_client) -> None:
    """A skill staff have retired no longer appears under its area."""
    area = AreaFactory(slug="api-area", name="API area", position=999)
    SkillFactory(area=area, slug="api-kept", name="Kept")
    SkillFactory(area=area, slug="api-retired", name="Retired", is_active=False)
    areas = {a["slug"]: a for a in api_client.get(AREAS_URL).json()}
    assert [s["slug"] for s in areas["api-area"]["skills"]] == ["api-kept"]


@pytest.mark.django_db
def test_skills_list_is_paginated_with_links(api_client) -> None:
    """The skill list pages by 20 with count, next and previous links."""
    total = Skill.objects.filter(is_active=True).count()
    first = api_client.get(SKILLS_URL)
    assert first.status_code == 200
    page = first.json()
    assert set(page) == {"count", "next", "previous", "results"}
    assert page["count"] == total == 84
    assert len(page["results"]) == 20
    assert page["previous"] is None
    assert page["next"].endswith(f"{SKILLS_URL}?page=2")
    assert set(page["results"][0]) == {"slug", "name", "description", "area"}
    assert page["results"][0]["slug"] == CATALOGUE[0]["skills"][0]["slug"]
    assert page["results"][0]["area"] == CATALOGUE[0]["slug"]

    second = api_client.get(page["next"]).json()
    assert second["previous"].endswith(SKILLS_URL)
    assert not {s["slug"] for s in second["results"]} & {s["slug"] for s in page["results"]}

    last = api_client.get(SKILLS_URL, {"page": 5}).json()
    assert len(last["results"]) == total - 80
    assert last["next"] is None

    seen = []
    url = SKILLS_URL
    while url:
        data = api_client.get(url).json()
        seen += [s["slug"] for s in data["results"]]
        url = data["next"]
    shipped = [s["slug"] for area in CATALOGUE for s in area["skills"]]
    assert seen == shipped


@pytest.mark.django_db
def test_skills_list_narrowed_to_one_area(api_client) -> None:
    """?area=<slug> lists only that area's skills; an unknown area lists none."""
    area = CATALOGUE[3]
    response = api_client.get(SKILLS_URL, {"area": area["slug"]})
    data = response.json()
    assert data["count"] == len(area["skills"])
    assert [s["slug"] for s in data["results"]] == [s["slug"] for s in area["skills"]]
    assert {s["area"] for s in data["results"]} == {area["slug"]}

    empty = api_client.get(SKILLS_URL, {"area": "no-such-area"}).json()
    assert empty["count"] == 0
    assert empty["results"] == []


@pytest.mark.django_db
def test_skills_list_rejects_an_area_that_is_not_a_slug(api_client) -> None:
    """An area value that cannot be a slug is a 400 naming the area field."""
    assert_error(api_client.get(SKILLS_URL, {"area": "not a slug!"}), 400, "invalid", {"area"})


@pytest.mark.django_db
def test_skills_list_leaves_out_retired_skills(api_client) -> None:
    """Retired skills are not listed."""
    area = AreaFactory(slug="api-area-2", name="API area 2")
    SkillFactory(area=area, slug="api-live", name="Live")
    SkillFactory(area=area, slug="api-gone", name="Gone", is_active=False)
    data = api_client.get(SKILLS_URL, {"area": "api-area-2"}).json()
    assert [s["slug"] for s in data["results"]] == ["api-live"]


@pytest.mark.django_db
def test_skills_page_size_is_capped_at_100(api_client) -> None:
    """A client may ask for a page size, but never gets more than 100 items on a page."""
    area = AreaFactory(slug="api-bulk", name="API bulk")
    for n in range(30):
        SkillFactory(area=area, slug=f"api-bulk-{n}", name=f"Bulk {n}")
    for asked, served in [(5, 5), (100, 100), (101, 100), (5000, 100)]:
        data = api_client.get(SKILLS_URL, {"page_size": asked}).json()
        assert data["count"] == 114
        assert len(data["results"]) == served, asked
        assert data["next"] is not None


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["6", "999", "0", "last-but-one"])
def test_skills_unknown_page_is_404_in_error_format(api_client, page) -> None:
    """A page past the end (or not a page at all) is a 404 in the error format."""
    assert_error(api_client.get(SKILLS_URL, {"page": page}), 404, "not_found", set())
