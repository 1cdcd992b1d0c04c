"""Pages fit a phone screen as well as a desktop one (screenshots go to /tmp/hub-shots/)."""

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page

from tests.browser.helpers import SHOTS_DIR, load_catalogue, log_in
from tests.conftest import LiveServer
from tests.factories import make_member

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "mobile": {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True},
}
OVERFLOW_JS = """() => [...document.querySelectorAll('body *')]
  .filter(el => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
  .filter(el => getComputedStyle(el).position !== 'absolute' && el.offsetParent !== null)
  .slice(0, 5).map(el => el.outerHTML.slice(0, 120))"""


def _populate() -> None:
    load_catalogue()
    make_member(
        "oluwaseun", display_name="Oluwaseun Adeyemi-Ransome-Kuti", country="NG",
        roles=("professional", "mentor"), time_zone="Africa/Lagos",
        headline="Senior downstream scientist: Protein A, viral filtration and UF/DF scale-up",
        organisation="West African Vaccine Manufacturing Initiative", languages=["en", "yo"],
        skills={"protein-a-affinity-chromatography": 4, "viral-inactivation-and-filtration": 3,
                "ultrafiltration-diafiltration": 3, "gmp-fundamentals": 2},
        bio="I mentor **downstream** technicians.\n\n- Column packing\n- Viral clearance studies",
    )  # fmt: skip
    for n, (name, country) in enumerate(
        [("Priya Raman", "IN"), ("Tomás Ferreira", "BR"), ("Hana Bekele", "ET")]
    ):
        make_member(f"peer{n}", display_name=name, country=country, headline="Learner")


EDGE_GAP_PX = 8
EDGE_TEXT = {
    "the site name": "header .brand",
    "the page heading": "main h1",
    "the footer text": "footer p",
}


def _check_fits(page: Page, shot: str) -> None:
    width = page.evaluate("() => document.documentElement.clientWidth")
    scroll_width = page.evaluate("() => document.documentElement.scrollWidth")
    assert scroll_width <= width, (
        f"{page.url} scrolls sideways ({scroll_width}px > {width}px): {page.evaluate(OVERFLOW_JS)}"
    )
    for what, selector in EDGE_TEXT.items():
        box = page.locator(selector).first.bounding_box()
        assert box is not None, f"{page.url}: {what} is not shown"
        assert box["x"] >= EDGE_GAP_PX, f"{page.url}: {what} touches the left edge of the screen"
        assert box["x"] + box["width"] <= width - EDGE_GAP_PX + 1, (
            f"{page.url}: {what} runs into the right edge of the screen"
        )
    SHOTS_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS_DIR / shot), full_page=True)


@pytest.mark.parametrize("size", ["desktop", "mobile"])
def test_pages_fit_the_screen_without_sideways_scrolling(
    transactional_db: None,
    live_daphne: LiveServer,
    new_context: Callable[..., BrowserContext],
    size: str,
) -> None:
    """Home, directory, member page and profile form: no sideways scroll, no edge-hugging text."""
    _populate()
    visitor = new_context(**VIEWPORTS[size]).new_page()
    for path, name in [
        ("/", "home"),
        ("/members/", "directory"),
        ("/members/oluwaseun/", "member"),
    ]:
        visitor.goto(live_daphne.url + path)
        _check_fits(visitor, f"{name}-{size}.png")

    member = new_context(**VIEWPORTS[size]).new_page()
    log_in(member, live_daphne, "oluwaseun")
    member.goto(live_daphne.url + "/settings/profile/")
    member.locator("details summary", has_text="Downstream processing").click()
    _check_fits(member, f"profile-edit-{size}.png")
