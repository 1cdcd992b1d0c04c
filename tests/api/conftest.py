"""Fixtures for the REST API tests."""

import pytest

from community.models import Skill
from tests.factories import SkillFactory


@pytest.fixture
def skills(db: None) -> list[Skill]:
    """Three skills of our own, so tests do not lean on the shipped catalogue."""
    return [
        SkillFactory(slug="api-test-chromatography", name="API chromatography"),
        SkillFactory(slug="api-test-fermentation", name="API fermentation"),
        SkillFactory(slug="api-test-gmp-audits", name="API GMP audits"),
    ]
