"""The staff console in a real browser (Debian's chromium, driven by Playwright): a day's
list of leads fits a laptop screen, the keyboard works it, and axe finds no serious or
critical accessibility problem at a laptop's width or a phone's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from playwright.sync_api import Page, expect, sync_playwright
from sqlalchemy import select

from app.extensions import db
from app.models import Assignment, LeadStatus, StaffUser
from app.models.base import utcnow
from app.services.leads import tags
from tests.support.factories import (
    STAFF_PASSWORD,
    directory_clinics,
    make_lead,
    make_staff,
    routed_lead,
)

pytestmark = pytest.mark.integration

LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}
NAMES = ("Aigerim Testova", "Bat-Erdene Testov", "Olga Samplebek", "Yuki Fictiv", "Omar Testov")

# The console's pages a person works in all day; each is checked by axe at both widths.
PAGES = {
    "leads": "/staff/leads",
    "lead page": "/staff/leads/{routed_lead}",
    "dashboard": "/staff/dashboard",
}


@pytest.fixture
def day_of_leads(stack_app: Flask) -> StaffUser:
    """50 leads of the last two days, a third of them routed to clinics, some tagged and
    assigned; returns the staff member who signs in."""
    staff = make_staff("triager@careroute.test")
    directory_clinics()
    made = []
    for n in range(50):
        make = routed_lead if n % 3 == 0 else make_lead
        lead = make(
            full_name=NAMES[n % len(NAMES)],
            email=f"patient{n}@example.com",
            phone=f"+770155502{n:02d}",
            created_at=utcnow() - timedelta(minutes=50 * n),
            **({"assigned_to_id": staff.id} if n % 4 == 0 else {}),
            **({"status": LeadStatus.CONTACTED} if n % 7 == 6 else {}),
        )
        made.append(lead.id)
    tags.add_to_leads(db.session, made[::5], staff.id, "callback")
    tags.add_to_leads(db.session, made[::9], staff.id, "vip")
    return staff


@pytest.fixture
def browser_page(chromium: str) -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, headless=True, args=["--no-sandbox"]
        )
        try:
            yield browser.new_page(viewport=LAPTOP)
        finally:
            browser.close()


@pytest.fixture
def console(browser_page: Page, careroute: str, day_of_leads: StaffUser) -> Page:
    """The browser signed in to the console (in English), on the list of leads."""
    page = browser_page
    page.goto(f"{careroute}/staff/login?lang=en")
    page.get_by_label("Email").fill(day_of_leads.email)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{careroute}/staff/leads")
    page.wait_for_selector("[data-lead-row]")
    return page


def serious_violations(page: Page) -> list[str]:
    """What axe finds serious or critical on the page as it is now, one line each."""
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["1280px", "360px"])
@pytest.mark.parametrize("name", list(PAGES))
def test_axe_finds_no_serious_violation(
    console: Page, careroute: str, name: str, viewport: dict[str, int]
):
    routed = db.session.scalar(select(Assignment.lead_id).order_by(Assignment.lead_id))
    console.set_viewport_size(viewport)
    console.goto(careroute + PAGES[name].format(routed_lead=routed))

    assert serious_violations(console) == []


def test_at_least_15_leads_show_above_the_fold_on_a_laptop(console: Page):
    bottoms = [
        box["y"] + box["height"]
        for row in console.locator("[data-lead-row]").all()
        if (box := row.bounding_box()) is not None
    ]

    assert len(bottoms) == 50
    assert sum(bottom <= LAPTOP["height"] for bottom in bottoms) >= 15


def test_keys_move_through_rows_select_one_and_jump_to_search(console: Page):
    rows = console.locator("[data-lead-row]")

    console.keyboard.press("j")
    console.keyboard.press("j")
    console.keyboard.press("x")

    assert rows.nth(1).locator("input[type=checkbox]").is_checked()
    assert not rows.nth(0).locator("input[type=checkbox]").is_checked()
    console.keyboard.press("/")
    assert console.evaluate("document.activeElement.id") == "q"
    console.keyboard.type("j")  # typing in the search is typing, not moving
    assert console.locator("#q").input_value() == "j"


def test_question_mark_opens_the_shortcuts_and_o_opens_the_lead(console: Page):
    help_dialog = console.locator("dialog[data-key-help]")
    console.keyboard.press("?")
    expect(help_dialog).to_be_visible()
    console.keyboard.press("j")  # the open dialog keeps its keys
    expect(console.locator("[data-lead-row].is-current")).to_have_count(0)
    console.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()

    # Even when the focus lingers on the closed dialog's button (seen under load).
    console.keyboard.press("j")
    expect(console.locator("[data-lead-row]").first).to_have_class("is-current")
    console.keyboard.press("o")

    console.wait_for_url("**/staff/leads/*")
    assert console.locator("h1").inner_text().startswith("Lead ")
