"""The member directory's country filter takes a country code in either case."""

import pytest

from tests.api.helpers import assert_error, usernames
from tests.factories import make_member

MEMBERS_URL = "/api/v1/members/"


@pytest.fixture
def kenyans(db: None) -> None:
    make_member("wanjiru", country="KE")
    make_member("otieno", country="KE")
    make_member("tendai", country="ZW")


@pytest.mark.parametrize("code", ["KE", "ke", "Ke"])
def test_country_filter_ignores_case(api_client, kenyans, code: str) -> None:
    """?country=ke lists the same members as ?country=KE."""
    response = api_client.get(MEMBERS_URL, {"country": code})
    assert usernames(response) == ["otieno", "wanjiru"]


@pytest.mark.parametrize("code", ["kenya", "xx", "k", "KEN"])
def test_unknown_country_codes_are_still_refused(api_client, kenyans, code: str) -> None:
    """A code that is no country, in any case, is a clear error on the field."""
    assert_error(api_client.get(MEMBERS_URL, {"country": code}), 400, "invalid", {"country"})
