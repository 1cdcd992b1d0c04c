"""Keyboard use and the basics screen readers rely on."""

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.helpers import UNLABELLED_CONTROLS_JS, log_in
from tests.conftest import LiveServer
from tests.factories import SkillFactory, make_member

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def test_first_tab_reaches_skip_link_and_enter_moves_focus_to_main(
    transactional_db: None, live_daphne: LiveServer, page: Page
) -> None:
    """The first Tab on the home page focuses "Skip to content"; Enter jumps to main."""
    page.goto(live_daphne.url + "/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box is not None
    assert box["width"] > 10
    assert box["height"] > 10, "the focused skip link must be visible, not clipped away"

    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    # The next Tab continues from the main content, not from the header navigation.
    page.keyboard.press("Tab")
    in_main = page.evaluate("() => document.querySelector('main').contains(document.activeElement)")
    assert in_main, "after skipping, Tab should move into the main content"


def _check_page(page: Page, url: str) -> None:
    page.goto(url)
    unlabelled = page.evaluate(UNLABELLED_CONTROLS_JS)
    assert unlabelled == [], f"{url}: form controls without an accessible label: {unlabelled}"
    assert page.locator("h1").count() == 1, f"{url}: a page needs exactly one <h1>"
    assert page.locator("h1").inner_text().strip(), f"{url}: the <h1> is empty"
    lang = page.evaluate("() => document.documentElement.lang")
    assert lang, f"{url}: <html> has no lang"
    assert lang.split("-")[0] == "en"


def test_form_controls_are_labelled_and_pages_have_one_h1_and_a_language(
    transactional_db: None, live_daphne: LiveServer, new_context: Callable[..., BrowserContext]
) -> None:
    """Every form control has a label; each page has one <h1> and <html lang>."""
    skill = SkillFactory(name="Chromatography column packing drill")
    make_member("ines", display_name="Ines Duarte", skills={skill.slug: 2}, country="PT")
    anonymous = new_context().new_page()
    for path in [
        "/",
        "/accounts/signup/",
        "/accounts/login/",
        "/members/",
        f"/members/?skill={skill.slug}&country=PT",
        "/members/ines/",
        "/catalogue/",
    ]:
        _check_page(anonymous, live_daphne.url + path)

    page = new_context().new_page()
    log_in(page, live_daphne, "ines")
    for path in ["/settings/profile/", "/members/ines/", "/members/"]:
        _check_page(page, live_daphne.url + path)
    # The skill selects sit in collapsed <details>; they are labelled all the same.
    page.goto(live_daphne.url + "/settings/profile/")
    expect(page.get_by_label("Chromatography column packing drill", exact=True)).to_have_count(1)
