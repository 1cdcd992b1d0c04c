"""The personal notifications socket: live messages arrive, logging out closes it."""

from collections.abc import Callable

import pytest
from django.test import override_settings
from playwright.sync_api import BrowserContext, Page, expect

from realtime.events import publish_to_user
from tests.browser.helpers import log_in, off_thread, redis_channel_layers
from tests.conftest import LiveServer
from tests.factories import make_member

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.redis]

SOCKET_OPEN = (
    "() => !!(window.hub && window.hub.notifications) && hub.notifications.readyState === 1"
)
WATCH_SOCKET = """() => {
  const ws = window.hub.notifications;
  ws.watchedByTest = true;
  ws.addEventListener('close', e => { window.closeCode = e.code; });
}"""


def _publish(user_id: int, text: str) -> None:
    with override_settings(CHANNEL_LAYERS=redis_channel_layers()):
        publish_to_user(user_id=user_id, event_type="notification", data={"text": text})


def test_notification_reaches_the_page_and_logout_closes_the_socket(
    transactional_db: None, redis_daphne: LiveServer, new_context: Callable[..., BrowserContext]
) -> None:
    """A notification published for a member shows live; logging out closes the socket."""
    profile = make_member("amara", display_name="Amara Nwosu")
    context = new_context()
    page: Page = context.new_page()
    log_in(page, redis_daphne, "amara")
    page.wait_for_function(SOCKET_OPEN)
    expect(page.locator("#live-status")).to_have_text("")

    off_thread(_publish, profile.user_id, "Hello from the test")
    expect(page.locator("#live-status")).to_have_text("Hello from the test")

    # A second tab of the same session holds its own socket.
    other_tab = context.new_page()
    other_tab.goto(redis_daphne.url + "/members/")
    other_tab.wait_for_function(SOCKET_OPEN)
    other_tab.evaluate(WATCH_SOCKET)

    page.get_by_role("button", name="Log out").click()
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Log in")
    ).to_be_visible()
    assert page.evaluate("() => window.hub.notifications === undefined")

    # The other tab's socket is closed by the server as revoked ...
    other_tab.wait_for_function("() => window.hub.notifications.readyState === 3")
    assert other_tab.evaluate("() => window.closeCode") == 4409
    # ... and stays closed: after the first reconnect delay (1 s) has passed twice over,
    # the tab still holds the same closed socket rather than a new one.
    other_tab.wait_for_timeout(2500)
    assert other_tab.evaluate("() => window.hub.notifications.watchedByTest === true")
    assert other_tab.evaluate("() => window.hub.notifications.readyState") == 3
