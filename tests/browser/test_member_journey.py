"""A newcomer signs up, confirms their address, fills in a profile and finds a peer."""

import re
import time

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import confirmation_link, log_in, newest_mail
from tests.conftest import LiveServer
from tests.factories import AreaFactory, SkillFactory, make_member

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

NEW_PASSWORD = "Bioreactor-Harvest-2024!"


def test_sign_up_confirm_edit_profile_and_find_a_member(
    transactional_db: None, live_daphne: LiveServer, page: Page
) -> None:
    """A visitor signs up, confirms by e-mail, edits their profile and finds a member."""
    area = AreaFactory(slug="polishing-lab", name="Polishing lab practice")
    own_skill = SkillFactory(area=area, slug="tff-ultrafiltration", name="Tangential flow")
    rare_skill = SkillFactory(area=area, slug="sec-polishing", name="Size-exclusion polishing")
    make_member(
        "nadia", display_name="Nadia Haddad", country="GH", skills={rare_skill.slug: 4},
        headline="Polishing lead",
    )  # fmt: skip
    # Same skill elsewhere, same country without the skill: the filters must tell them apart.
    make_member("lukas", display_name="Lukas Weber", country="DE", skills={rare_skill.slug: 3})
    make_member("kofi", display_name="Kofi Boateng", country="GH", skills={own_skill.slug: 2})

    # --- sign up -------------------------------------------------------------------------
    page.goto(live_daphne.url + "/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sign up").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("Sign up", re.I))
    page.get_by_label("Email").fill("zanele@example.org")
    page.get_by_label("Username").fill("zanele")
    page.get_by_label(re.compile(r"^Password:?$")).fill(NEW_PASSWORD)
    page.get_by_label(re.compile(r"^Password \(again\)")).fill(NEW_PASSWORD)
    page.get_by_label("Display name").fill("Zanele Dlamini")
    page.get_by_label("Time zone").fill("Africa/Johannesburg")
    sent_after = time.time() - 1
    page.get_by_role("button", name=re.compile("Sign up", re.I)).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("verify", re.I))

    # --- confirm the address from the e-mail ----------------------------------------------
    link = confirmation_link(newest_mail(live_daphne.mail_dir, since=sent_after))
    assert link.startswith(live_daphne.url + "/")
    page.goto(link)
    with page.expect_navigation():
        page.get_by_role("button", name="Confirm").click()
    if page.locator("body[data-member]").count() == 0:
        log_in(page, live_daphne, "zanele@example.org", NEW_PASSWORD)
    expect(page.locator("body")).to_have_attribute("data-member", "zanele")

    # --- edit the profile ------------------------------------------------------------------
    page.get_by_role("link", name="Your profile").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Zanele Dlamini")
    page.get_by_role("link", name="Edit your profile").click()
    page.get_by_label("Headline").fill("Downstream technician learning TFF")
    page.get_by_label("Country").select_option(label="South Africa")
    page.get_by_label("Languages you speak").select_option(label="Zulu")
    page.locator("details summary", has_text="Polishing lab practice").click()
    page.get_by_label("Tangential flow", exact=True).select_option(label="Practitioner")
    page.get_by_role("button", name="Save profile").click()

    expect(
        page.get_by_role("status").filter(has_text="Your profile has been saved.")
    ).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Zanele Dlamini")
    expect(page.get_by_text("Downstream technician learning TFF")).to_be_visible()
    expect(page.get_by_text("South Africa")).to_be_visible()
    skills = page.get_by_role("region", name="Skills")
    expect(skills.get_by_role("listitem")).to_have_text(["Tangential flow (Practitioner)"])
    expect(page.get_by_text("Zulu")).to_be_visible()

    # --- find a member by skill and country ----------------------------------------------
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Members").click()
    page.get_by_label("Skill", exact=True).select_option(label="Size-exclusion polishing")
    page.get_by_label("Country", exact=True).select_option(label="Ghana")
    page.get_by_role("button", name="Find members").click()

    expect(page.get_by_text("1 member found")).to_be_visible()
    cards = page.locator(".member-card")
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("Size-exclusion polishing (Expert)")
    cards.first.get_by_role("link", name="Nadia Haddad").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nadia Haddad")
    expect(page.get_by_text("Polishing lead")).to_be_visible()
    assert page.url == f"{live_daphne.url}/members/nadia/"
