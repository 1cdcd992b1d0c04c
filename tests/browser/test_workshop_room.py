"""The live workshop room in three browsers: a facilitator and two participants."""

import datetime as dt
from collections.abc import Callable

import pytest
from django.utils import timezone
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.helpers import log_in
from tests.conftest import LiveServer
from tests.factories import make_member
from workshops.models import Registration, RegistrationStatus, Workshop

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def make_workshop() -> Workshop:
    facilitator = make_member("chioma", display_name="Chioma Eze").user
    start = timezone.now() + dt.timedelta(minutes=30)
    workshop = Workshop.objects.create(
        title="Deviation triage clinic",
        created_by=facilitator,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
    )
    workshop.facilitators.add(facilitator)
    for username, name in [("amina", "Amina Okafor"), ("kwame", "Kwame Mensah")]:
        user = make_member(username, display_name=name).user
        Registration.objects.create(
            workshop=workshop, user=user, status=RegistrationStatus.REGISTERED
        )
    return workshop


def enter(
    new_context: Callable[..., BrowserContext],
    server: LiveServer,
    login: str,
    pk: int,
    errors: list[str],
) -> Page:
    page = new_context().new_page()
    page.on("pageerror", lambda exc: errors.append(f"{login}: {exc}"))
    log_in(page, server, login)
    page.goto(f"{server.url}/workshops/{pk}/room/")
    page.wait_for_selector("main[data-live]")  # the room socket is open
    return page


def chat_item(page: Page, text: str):  # type: ignore[no-untyped-def]
    return page.locator("#chat-log li").filter(has_text=text)


def test_chat_poll_and_deletion_are_seen_live_by_everyone(
    transactional_db: None, live_daphne: LiveServer, new_context: Callable[..., BrowserContext]
) -> None:
    """Chat, a poll opened, voted and revealed, and a deleted message show live for all."""
    workshop = make_workshop()
    errors: list[str] = []
    host = enter(new_context, live_daphne, "chioma", workshop.pk, errors)
    amina = enter(new_context, live_daphne, "amina", workshop.pk, errors)
    kwame = enter(new_context, live_daphne, "kwame", workshop.pk, errors)
    for page in (amina, kwame):
        page.evaluate("() => { window.sameDocument = true; }")

    # Presence: the facilitator sees both participants arrive.
    expect(host.locator('#presence [data-presence="count"]')).to_have_text("3 people in the room.")

    # Chat over the socket, rendered Markdown, seen by the two others without a reload.
    amina.get_by_label("Your message").fill("Our **CAPA** is overdue")
    amina.get_by_role("button", name="Send").click()
    for page in (host, kwame, amina):
        expect(chat_item(page, "Our CAPA is overdue").locator(".chat-body strong")).to_have_text(
            "CAPA"
        )
    kwame.get_by_label("Your message").fill("Same here")
    kwame.get_by_role("button", name="Send").click()
    expect(chat_item(amina, "Same here")).to_be_visible()
    expect(amina.get_by_label("Your message")).to_have_value("")

    # The facilitator drafts and opens a poll whose results stay hidden until revealed.
    host.get_by_label("Question").fill("Which root cause?")
    host.get_by_label("Kind").select_option("single")
    host.get_by_label("Options, one per line").fill("Operator error\nEquipment failure")
    host.get_by_label("Show results").select_option("hidden")
    host.get_by_role("button", name="Save as a draft").click()
    host.get_by_role("button", name="Open the poll").click()
    for page in (amina, kwame):
        poll = page.locator("#polls article").filter(has_text="Which root cause?")
        expect(poll.get_by_label("Equipment failure")).to_be_visible()

    # Both participants vote over the socket; only the facilitator sees the tally so far.
    for page, choice in ((amina, "Equipment failure"), (kwame, "Operator error")):
        poll = page.locator("#polls article").filter(has_text="Which root cause?")
        poll.get_by_label(choice).check()
        poll.get_by_role("button", name="Vote").click()
        expect(poll.get_by_text("Your vote is recorded.")).to_be_visible()

    host_tally = host.locator("#polls [data-tally]")
    expect(host_tally).to_contain_text("2 votes")
    expect(amina.locator("#polls [data-tally]")).to_have_count(0)

    # Revealed: the results appear for the participants, live.
    host.get_by_role("button", name="Reveal the results").click()
    for page in (amina, kwame):
        tally = page.locator("#polls [data-tally]")
        expect(tally).to_contain_text("2 votes")
        expect(tally).to_contain_text("Equipment failure: 1 vote (50%)")
        expect(tally).to_contain_text("Operator error: 1 vote (50%)")

    # The facilitator deletes Amina's message: it disappears for everyone.
    chat_item(host, "Our CAPA is overdue").get_by_role("button", name="Delete").click()
    for page in (host, amina, kwame):
        expect(chat_item(page, "Our CAPA is overdue")).to_have_count(0)
        expect(chat_item(page, "Same here")).to_be_visible()
    # The participants never reloaded: everything above came over their sockets.
    for page in (amina, kwame):
        assert page.evaluate("() => window.sameDocument === true")
    assert errors == []
