"""The inquiry form in a partner's frame: only the partner's origins may frame it, it needs
no cookie, and its leads carry the partner as their source."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.models import Lead, LeadStatus, Partner
from app.services import audit
from app.services.integrations import partners
from tests.support.checks import count
from tests.support.data import inquiry
from tests.support.factories import make_clinic


@pytest.fixture
def partner(app: Flask) -> Partner:
    created, _key = partners.create_partner(
        db.session,
        "Silk Road Health Blog",
        ["https://blog.example", "https://www.blog.example/"],
        audit.Actor.system("test"),
    )
    return created


def cookieless(app: Flask) -> FlaskClient:
    """A browser in a third-party frame: it keeps none of our cookies."""
    return app.test_client(use_cookies=False)


def test_only_the_partners_origins_may_frame_it(client: FlaskClient, partner: Partner):
    framed = client.get(f"/embed/inquire?partner={partner.public_id}")
    policy = framed.headers["Content-Security-Policy"]

    assert framed.status_code == 200
    assert "frame-ancestors https://blog.example https://www.blog.example" in policy
    assert "X-Frame-Options" not in framed.headers
    ours = client.get("/inquire")
    assert "frame-ancestors 'none'" in ours.headers["Content-Security-Policy"]
    assert ours.headers["X-Frame-Options"] == "DENY"
    assert client.get("/embed/inquire?partner=nobody").status_code == 404


def test_a_patient_sends_it_without_any_cookie(app: Flask, partner: Partner):
    make_clinic("Alpha")
    browser = cookieless(app)
    page = f"/embed/inquire?partner={partner.public_id}&lang=en"
    html = browser.get(page).text
    assert 'name="csrf_token"' not in html
    timer = html.split('name="started" type="hidden" value="')[1].split('"')[0]

    sent = browser.post(page, data=inquiry(started=timer))

    assert sent.status_code == 200 and "Thank you, we have your question" in sent.text
    lead = db.session.scalar(select(Lead))
    assert lead.reference in sent.text
    assert (lead.source, lead.partner_id, lead.status) == ("partner", partner.id, LeadStatus.NEW)


def test_its_defences_hold_without_a_csrf_token(app: Flask, partner: Partner):
    browser = cookieless(app)
    page = f"/embed/inquire?partner={partner.public_id}"

    bot = browser.post(page, data=inquiry(nickname="Best Clinic Deals"))
    refused = browser.post(page, data=inquiry(email="not an address"))

    assert bot.status_code == 200  # the sender learns nothing
    assert db.session.scalar(select(Lead.status)) is LeadStatus.SPAM
    assert refused.status_code == 422 and count(Lead) == 1


def test_switching_language_keeps_the_partner(client: FlaskClient, partner: Partner):
    html = client.get(f"/embed/inquire?partner={partner.public_id}&clinic=alpha").text
    assert f'href="/embed/inquire?partner={partner.public_id}&amp;clinic=alpha&amp;lang=ja"' in html


def test_admins_find_the_snippet_to_send_the_partner(admin_client: FlaskClient, partner: Partner):
    html = admin_client.get("/staff/partners").text

    snippet = (
        f"&lt;iframe src=&#34;http://localhost/embed/inquire?partner={partner.public_id}&#34; "
        "title=&#34;Ask about a treatment&#34;"
    )
    assert snippet in html
