"""The patient's own page for an inquiry, opened from their emails without an account."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from itsdangerous.encoding import base64_encode
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, ClinicResponse, OutboundEmail
from app.services.answers import answering
from app.services.answers.answering import QuoteDetails
from app.services.privacy.patient_links import status_token
from tests.support.application import make_app
from tests.support.clock import NOW
from tests.support.emails import links_in, path_of
from tests.support.factories import make_clinic, make_clinic_user, make_lead, routed_lead
from tests.support.forms import submit


def test_the_page_shows_where_the_question_went_and_the_quotes_side_by_side(
    client: FlaskClient, app: Flask
):
    alpha, bravo = make_clinic("Alpha"), make_clinic("Bravo")
    lead = routed_lead(language="en")
    answering.answer(
        db.session,
        lead.id,
        make_clinic_user(alpha).id,
        ClinicResponse.QUOTED,
        max_clinics=3,
        quote=QuoteDetails(9000, 12000, "USD", "Injection, MRI", 5, NOW.date() - timedelta(days=1)),
    )
    [link] = [url for url in links_in("patient_confirmation") if "/inquire/status/" in url]

    page = client.get(path_of(link))

    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    text = page.text
    assert lead.reference in text and "A clinic has answered" not in text  # quoted, in words
    assert "You have a quote." in text
    assert f'href="/clinics/{alpha.slug}"' in text and f'href="/clinics/{bravo.slug}"' in text
    assert "$9,000\u2013$12,000" in text and "Injection, MRI" in text
    assert "this quote has expired" in text
    assert "has not answered yet" in text  # Bravo
    assert db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "lead.viewed_by_patient")
    )


def test_every_email_to_the_patient_links_to_the_page(app: Flask):
    alpha = make_clinic("Alpha")
    lead = routed_lead()
    answering.answer(
        db.session, lead.id, make_clinic_user(alpha).id, ClinicResponse.CONTACTED, max_clinics=3
    )
    for template in ("patient_confirmation", "patient_clinic_answered"):
        assert any("/inquire/status/" in url for url in links_in(template)), template


def test_one_inquirys_link_opens_nothing_of_another(client: FlaskClient, app: Flask):
    mine, other = make_lead(), make_lead(email="other@example.com", phone="+77015550999")
    token = status_token(mine)
    # The other lead's id and reference under my link's signature.
    theirs = json.dumps({"lead": other.id, "ref": other.reference}, separators=(",", ":"))
    forged = ".".join([base64_encode(theirs).decode(), *token.split(".")[1:]])
    for bad in (forged, token[:-4] + "abcd", "not-a-token"):
        page = client.get(f"/inquire/status/{bad}")
        assert page.status_code == 400 and other.reference not in page.text
        assert "fresh links" in page.text


def test_an_expired_link_says_so_and_offers_fresh_links(settings: dict[str, str]):
    app = make_app(settings, STATUS_LINK_MAX_AGE_SECONDS="-1")
    with app.app_context():
        lead = make_lead()
        page = app.test_client().get(f"/inquire/status/{status_token(lead)}")
    assert page.status_code == 400 and "has expired" in page.text


def test_asking_for_fresh_links_answers_the_same_for_any_address(client: FlaskClient, app: Flask):
    lead = make_lead(email="known@example.com")
    known = submit(client, "/inquire/status", {"email": "Known@Example.com"})
    unknown = submit(client, "/inquire/status", {"email": "stranger@example.com"})

    assert known.status_code == unknown.status_code == 200
    strip = lambda html: re.sub(r'value="[^"]*"', "", html)  # noqa: E731 (CSRF tokens differ)
    assert strip(known.text) == strip(unknown.text)
    [email] = db.session.scalars(
        select(OutboundEmail).where(OutboundEmail.template == "patient_status_links")
    ).all()
    assert email.recipient == "known@example.com" and email.context == {"lead_ids": [lead.id]}
    assert any("/inquire/status/" in url for url in links_in("patient_status_links"))
