"""Fixtures for the community tests."""

import pytest

from community.models import Skill


@pytest.fixture
def skills(db: None) -> list[Skill]:
    """Six active catalogue skills (from the data migration), in catalogue order."""
    found = list(Skill.objects.filter(is_active=True).order_by("area__position", "position")[:6])
    assert len(found) == 6
    return found
