"""The hub is readable and searchable with JavaScript turned off."""

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, expect

from tests.conftest import LiveServer
from tests.factories import AreaFactory, SkillFactory, make_member

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def test_pages_read_and_directory_filters_without_javascript(
    transactional_db: None, live_daphne: LiveServer, new_context: Callable[..., BrowserContext]
) -> None:
    """Without JavaScript: home, catalogue, member page and directory filter all work."""
    area = AreaFactory(slug="no-js-area", name="Cold chain and logistics")
    skill = SkillFactory(area=area, slug="no-js-skill", name="Temperature excursion handling")
    make_member(
        "wanjiru", display_name="Wanjiru Kamau", country="KE", skills={skill.slug: 3},
        headline="Cold chain specialist", bio="I run **vaccine** cold chains.",
    )  # fmt: skip
    make_member("pedro", display_name="Pedro Alves", country="BR", skills={skill.slug: 1})
    make_member("achieng", display_name="Achieng Otieno", country="KE")

    context = new_context(java_script_enabled=False)
    page = context.new_page()
    assert page.evaluate("1 + 1") == 2  # evaluate still works; page scripts do not run

    page.goto(live_daphne.url + "/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Keep learning together")
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Members")
    ).to_be_visible()
    # hub.js did not run: no time-zone cookie was set and no hub object exists.
    assert page.evaluate("() => typeof window.hub") == "undefined"
    assert not [c for c in context.cookies() if c["name"] == "hub_tz"]

    page.get_by_role("contentinfo").get_by_role("link", name="Competency catalogue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Competency catalogue")
    section = page.get_by_role("region", name="Cold chain and logistics")
    expect(section.get_by_role("link", name="Temperature excursion handling")).to_be_visible()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Members").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Members")
    expect(page.get_by_text("3 members found")).to_be_visible()
    page.get_by_label("Skill", exact=True).select_option(label="Temperature excursion handling")
    page.get_by_label("At least level").select_option(label="Practitioner")
    page.get_by_label("Country", exact=True).select_option(label="Kenya")
    page.get_by_role("button", name="Find members").click()

    assert "skill=no-js-skill" in page.url
    assert "country=KE" in page.url
    expect(page.get_by_text("1 member found")).to_be_visible()
    cards = page.locator(".member-card")
    expect(cards).to_have_count(1)
    # The form keeps what was chosen, so the visitor can refine the search.
    expect(page.get_by_label("Country", exact=True)).to_have_value("KE")
    expect(page.get_by_label("Skill", exact=True)).to_have_value("no-js-skill")

    cards.get_by_role("link", name="Wanjiru Kamau").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Wanjiru Kamau")
    expect(page.get_by_text("Cold chain specialist")).to_be_visible()
    expect(page.locator(".markdown strong")).to_have_text("vaccine")
    skills = page.get_by_role("region", name="Skills")
    expect(skills.get_by_role("link", name="Temperature excursion handling")).to_be_visible()
