"""A real browser (Debian's chromium, driven by Playwright) sends the embedded form from a
partner's page on another site, with third-party cookies blocked: the lead is stored with
the partner as its source."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import sync_playwright
from sqlalchemy import select

from app.extensions import db
from app.models import Lead, LeadStatus
from app.services import audit
from app.services.integrations import partners
from tests.support.factories import make_clinic
from tests.support.stack import free_port

pytestmark = pytest.mark.integration

PARTNER_HOST = "partner.test"  # mapped to loopback in the browser: another site than ours


@pytest.fixture
def partner_site(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """The partner's own site: a folder of pages served on another port and host."""
    port = free_port()
    handler = partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield tmp_path, f"http://{PARTNER_HOST}:{port}"
    server.shutdown()
    thread.join(10)


def browser_profile(folder: Path) -> Path:
    """A Chromium profile that blocks third-party cookies, as a privacy-minded browser does."""
    default = folder / "Default"
    default.mkdir(parents=True)
    (default / "Preferences").write_text(
        json.dumps({"profile": {"block_third_party_cookies": True}})
    )
    return folder


def test_the_embedded_form_works_across_sites_without_cookies(
    stack_app: Flask,
    careroute: str,
    partner_site: tuple[Path, str],
    tmp_path: Path,
    chromium: str,
):
    make_clinic("Alpha", languages=("ko", "ru"))
    folder, partner_origin = partner_site
    partner, _key = partners.create_partner(
        db.session, "Steppe Travel", [partner_origin], audit.Actor.system("test")
    )
    form_url = f"{careroute}/embed/inquire?partner={partner.public_id}&lang=en"
    (folder / "index.html").write_text(
        "<!doctype html><title>Steppe Travel</title><h1>Knee treatment in Korea</h1>"
        f'<iframe src="{form_url}" title="Ask CareRoute" width="600" height="2400"></iframe>'
    )

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(browser_profile(tmp_path / "profile")),
            executable_path=chromium,
            headless=True,
            args=[
                "--no-sandbox",
                f"--host-resolver-rules=MAP {PARTNER_HOST} 127.0.0.1",
                "--test-third-party-cookie-phaseout",
            ],
        )
        try:
            page = context.new_page()
            page.goto(f"{partner_origin}/index.html")
            form = page.frame_locator("iframe")
            form.get_by_label("Treatment you are asking about").select_option(
                "autologous-msc-injection"
            )
            form.get_by_label("Your question").fill(
                "My left knee has hurt on stairs for two years; an MRI shows worn cartilage."
            )
            form.get_by_label("Your full name").fill("Nomin Testova")
            form.get_by_label("Email").fill("nomin.testova@example.com")
            form.get_by_label("Country you live in").select_option("MN")
            form.get_by_label("Phone or WhatsApp number").fill("+976 8811 2233")
            form.get_by_label("Language you would like to be answered in").select_option("mn")
            form.get_by_label("I agree that CareRoute shares").check()
            form.get_by_role("button", name="Send my question").click()
            form.get_by_text("Thank you, we have your question").wait_for(timeout=15000)
            stored_cookies = [c for c in context.cookies() if c["domain"] == "127.0.0.1"]
        finally:
            context.close()

    db.session.expire_all()
    lead = db.session.scalar(select(Lead))
    assert lead is not None and lead.email == "nomin.testova@example.com"
    assert (lead.source, lead.partner_id, lead.status) == ("partner", partner.id, LeadStatus.NEW)
    assert stored_cookies == []  # the frame kept nothing: none was needed
