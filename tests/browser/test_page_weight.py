"""Pages stay light for members on slow, metered connections, and stay on our host."""

from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import BrowserContext, Request

from tests.browser.helpers import load_catalogue, log_in
from tests.conftest import LiveServer
from tests.factories import make_member

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

BUDGET_BYTES = 60 * 1024
COUNTRIES = ["NG", "KE", "GH", "ZA", "IN", "BR", "EG", "RW", "ET", "UG"]
SKILLS = [
    "cho-fed-batch-culture", "protein-a-affinity-chromatography", "gmp-fundamentals",
    "sterile-filtration", "hplc-and-uplc-methods", "aav-vector-production",
]  # fmt: skip


def _populate() -> None:
    """A realistic first page: the whole catalogue and more members than fit a page."""
    load_catalogue()
    for n in range(21):
        make_member(
            f"practitioner{n:02d}",
            display_name=f"Practitioner {n:02d} Example",
            roles=("professional", "mentor") if n % 3 == 0 else ("learner",),
            country=COUNTRIES[n % len(COUNTRIES)],
            headline="Process engineer working on upstream and downstream scale-up",
            organisation="Example Biologics",
            languages=["en", "fr"],
            skills={slug: 1 + (n + i) % 4 for i, slug in enumerate(SKILLS)},
            bio="## Experience\n\n" + "Ran *fed-batch* and **perfusion** campaigns. " * 20,
        )


def _weigh(context: BrowserContext, url: str) -> tuple[int, set[str], list[str]]:
    page = context.new_page()
    finished: list[Request] = []
    hosts: set[str] = set()
    page.on("request", lambda r: hosts.add(urlsplit(r.url).hostname or r.url))
    page.on("websocket", lambda ws: hosts.add(urlsplit(ws.url).hostname or ws.url))
    page.on("requestfinished", lambda r: finished.append(r))
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")
    total = 0
    for request in finished:
        sizes = request.sizes()
        total += sizes["responseBodySize"] + sizes["responseHeadersSize"]
    return total, hosts, [r.url for r in finished]


def test_first_visit_weighs_under_60_kb_and_loads_nothing_from_elsewhere(
    transactional_db: None, live_daphne: LiveServer, new_context: Callable[..., BrowserContext]
) -> None:
    """Home, directory and a member page each load in under 60 KB, all from our host."""
    _populate()
    login_page = new_context().new_page()
    log_in(login_page, live_daphne, "practitioner00")
    member_session = login_page.context.storage_state()
    for who, session in [("a visitor", None), ("a member", member_session)]:
        for path in ["/", "/members/", "/members/practitioner03/"]:
            # A fresh context each time: a cold cache, so the page pays for CSS and JS too.
            total, hosts, urls = _weigh(new_context(storage_state=session), live_daphne.url + path)
            assert hosts == {"127.0.0.1"}, f"{path} for {who} contacted other hosts: {hosts}"
            assert total < BUDGET_BYTES, f"{path} for {who} transferred {total} bytes: {urls}"
