"""Headless Chromium (system build, Playwright's sync API) for the browser tests.

Playwright's sync API keeps its own asyncio loop "running" on the main thread for as
long as it is started, so Django sees every ORM call here as coming from async code.
The loop is parked in another greenlet and never runs concurrently with the test, so
``DJANGO_ALLOW_ASYNC_UNSAFE`` is set while the browser is up (this package only), and
the browser is package-scoped: it is shut down, and the variable removed, before any
other test package runs. Code that itself needs an event loop (``async_to_sync``) is
run with ``tests.browser.helpers.off_thread``.
"""

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.conftest import (
    CHROMIUM,
    REDIS_TEST_URL,
    LiveServer,
    _database_url,
    _free_port,
    daphne_server,
)

# Live updates reach the pages within a second on a quiet machine; CI runs the whole suite
# on two busy cores, and the room hub's catch-up (a held-back or lost event is read from the
# database within 0.5-5 s) is part of what these tests exercise. Wait up to 15 s, not 5.
expect.set_options(timeout=15_000)

FAILURE_DIR = Path("/tmp/hub-browser")  # noqa: S108 (asked for: screenshots of failures)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DEFAULT_TIMEOUT_MS = 15_000


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the whole browser package."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    pw = sync_playwright().start()
    try:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        pw.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def _new_context(browser: Browser, **options: Any) -> BrowserContext:
    options.setdefault("viewport", {"width": 1280, "height": 900})
    options.setdefault("locale", "en-GB")
    options.setdefault("timezone_id", "Africa/Lagos")
    context = browser.new_context(**options)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    return context


def _save_failure(request: pytest.FixtureRequest, pages: list[Page]) -> None:
    report = getattr(request.node, "rep_call", None)
    if report is None or not report.failed:
        return
    FAILURE_DIR.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    for index, pg in enumerate(pages):
        if pg.is_closed():
            continue
        try:
            pg.screenshot(path=str(FAILURE_DIR / f"{name}-{index}.png"), full_page=True)
        except Exception as exc:  # a screenshot must not hide the real failure
            print(f"could not save a failure screenshot: {exc}")


@pytest.fixture
def new_context(
    browser: Browser, request: pytest.FixtureRequest
) -> Iterator[Callable[..., BrowserContext]]:
    """Open further contexts (``java_script_enabled=False``, a phone viewport...);
    all are closed after the test, with screenshots of their pages if it failed."""
    contexts: list[BrowserContext] = []

    def make(**options: Any) -> BrowserContext:
        context = _new_context(browser, **options)
        contexts.append(context)
        return context

    yield make
    _save_failure(request, [pg for ctx in contexts for pg in ctx.pages])
    for context in contexts:
        context.close()


@pytest.fixture
def context(new_context: Callable[..., BrowserContext]) -> BrowserContext:
    return new_context()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture(scope="package")
def redis_daphne(
    live_daphne: LiveServer, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A daphne whose channel layer is Redis (prefix "hub").

    With ``REDIS_URL`` set the suite's own server already is; in the embedded default
    a second server is started with ``REDIS_URL`` so that the test process can reach
    its sockets through Redis.
    """
    layer = settings.CHANNEL_LAYERS["default"]
    config = layer.get("CONFIG", {})
    if (
        layer["BACKEND"] == "channels_redis.core.RedisChannelLayer"
        and config.get("hosts") == [REDIS_TEST_URL]
        and config.get("prefix") == "hub"
    ):
        yield live_daphne  # started with the same environment, so on the same Redis
        return
    with django_db_blocker.unblock():
        db_url = _database_url()
    port = _free_port()
    with daphne_server(
        db_url=db_url,
        mail_dir=live_daphne.mail_dir,
        log_dir=tmp_path_factory.mktemp("daphne-redis"),
        port=port,
        env={
            "REDIS_URL": REDIS_TEST_URL,
            "CHANNEL_PREFIX": "hub",
            "CACHE_PREFIX": f"hub-browser-{port}",
        },
    ) as server:
        yield server
