"""The competency catalogue shipped by the data migration, and its editing in the admin."""

import json
from pathlib import Path

import pytest
from django.test import Client

from community.models import CompetencyArea, Skill, User
from community.selectors import catalogue_areas

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parents[2] / "community" / "data" / "competencies.json"


def test_catalogue_has_at_least_60_skills_in_12_areas() -> None:
    """After migrations the catalogue holds 12 areas and at least 60 skills, each in an area."""
    areas = list(catalogue_areas())
    assert len(areas) == 12
    assert Skill.objects.count() >= 60
    assert all(len(area.skills.all()) >= 3 for area in areas)
    assert sum(len(area.skills.all()) for area in areas) == Skill.objects.count()


def test_catalogue_matches_the_shipped_data() -> None:
    """Every area and skill in competencies.json is in the database, in its order."""
    data = json.loads(DATA.read_text(encoding="utf-8"))
    assert [a.slug for a in catalogue_areas()] == [a["slug"] for a in data]
    for area in data:
        stored = list(Skill.objects.filter(area__slug=area["slug"]).order_by("position"))
        assert [s.slug for s in stored] == [s["slug"] for s in area["skills"]]


def test_every_skill_and_area_has_a_description() -> None:
    """No skill or area is shipped without a description."""
    assert not Skill.objects.filter(description="").exists()
    assert all(s.description.strip() for s in Skill.objects.all())
    assert all(a.description.strip() for a in CompetencyArea.objects.all())


def test_moderators_group_can_moderate() -> None:
    """The migration creates a Moderators group holding the moderation permission."""
    from django.contrib.auth.models import Group

    group = Group.objects.get(name="Moderators")
    assert group.permissions.filter(codename="moderate_community").exists()


@pytest.fixture
def admin_client(client: Client) -> Client:
    boss = User.objects.create_superuser("chief", "chief@example.org", "x-Secret-123")
    client.force_login(boss)
    return client


def test_staff_can_edit_a_skill_in_the_admin(admin_client: Client) -> None:
    """A superuser edits a skill's name and description on the admin change page."""
    skill = Skill.objects.order_by("pk").first()
    assert skill is not None
    url = f"/admin/community/skill/{skill.pk}/change/"
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(
        url,
        {
            "area": skill.area_id,
            "slug": skill.slug,
            "name": "Renamed skill",
            "description": "A clearer description.",
            "position": skill.position,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/community/skill/"
    skill.refresh_from_db()
    assert skill.name == "Renamed skill"
    assert skill.description == "A clearer description."
    assert skill.is_active


def test_staff_can_retire_a_skill_and_it_leaves_the_catalogue(
    admin_client: Client, client: Client
) -> None:
    """A skill switched off in the admin disappears from the public catalogue page."""
    skill = Skill.objects.order_by("pk").first()
    assert skill is not None
    response = admin_client.post(
        f"/admin/community/skill/{skill.pk}/change/",
        {"area": skill.area_id, "slug": skill.slug, "name": skill.name,
         "description": skill.description, "position": skill.position},
    )  # fmt: skip
    assert response.status_code == 302
    assert not Skill.objects.get(pk=skill.pk).is_active
    assert f'?skill={skill.slug}"' not in client.get("/catalogue/").content.decode()


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "member"])
def test_non_staff_cannot_reach_the_admin(client: Client, signed_in: bool) -> None:
    """Anonymous visitors and ordinary members are sent to the admin login, and can't edit."""
    if signed_in:
        client.force_login(User.objects.create_user("plain", "plain@example.org", "x-Pass-123"))
    skill = Skill.objects.order_by("pk").first()
    assert skill is not None
    url = f"/admin/community/skill/{skill.pk}/change/"
    for page in ["/admin/", "/admin/community/skill/", url]:
        response = client.get(page)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
    response = client.post(url, {"area": skill.area_id, "slug": skill.slug, "name": "Hacked",
                                 "description": "x", "position": 0, "is_active": "on"})  # fmt: skip
    assert response.status_code == 302
    assert Skill.objects.get(pk=skill.pk).name == skill.name
