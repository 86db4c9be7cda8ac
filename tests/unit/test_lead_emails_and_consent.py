"""What patients and clinics are told, and withdrawing consent through the emailed link."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Lead, OutboundEmail
from app.services.privacy.consent import withdraw_consent
from tests.support.emails import rendered as render_row
from tests.support.factories import make_clinic, routed_lead
from tests.support.forms import submit

CANARY = "CANARY-7f3a9 my left knee grade four"


def rendered(template: str) -> list[str]:
    emails = db.session.scalars(select(OutboundEmail).where(OutboundEmail.template == template))
    out = []
    for email in emails:
        message = render_row(email)
        out.append(f"{message.subject}\n{message.text}\n{message.html}")
    return out


def test_confirmation_names_every_clinic_and_no_email_carries_the_message(app: Flask):
    make_clinic("Alpha")
    make_clinic("Bravo")
    lead = routed_lead(message=f"{CANARY} and more words to pass the minimum")

    [confirmation] = rendered("patient_confirmation")
    assert "Alpha" in confirmation and "Bravo" in confirmation
    assert lead.reference in confirmation
    assert "/inquire/withdraw/" in confirmation
    notices = rendered("clinic_new_lead")
    assert len(notices) == 2
    assert all("/portal/leads/" in notice for notice in notices)
    for text in [confirmation, *notices]:
        assert CANARY not in text


def test_patient_text_is_escaped_in_the_html_email(app: Flask):
    make_clinic("Alpha")
    routed_lead(full_name="<script>alert(1)</script>")
    [confirmation] = rendered("patient_confirmation")
    html = confirmation.split("<!doctype html>", 1)[1]
    assert "<script>" not in html and "&lt;script&gt;" in html


def withdraw_link(lead: Lead) -> str:
    [confirmation] = rendered("patient_confirmation")
    return re.search(r"http://127\.0\.0\.1:5000(/inquire/withdraw/\S+)", confirmation).group(1)


def test_withdrawing_consent_revokes_assignments_tells_clinics_and_is_audited(
    app: Flask, client: FlaskClient
):
    make_clinic("Alpha")
    make_clinic("Bravo")
    lead = routed_lead()
    link = withdraw_link(lead)

    page = client.get(link)
    assert page.status_code == 200 and "Stop sharing" in page.text
    db.session.refresh(lead)
    assert lead.consent_withdrawn_at is None  # a GET changes nothing

    response = submit(client, link, {})
    assert "no longer shared" in response.text
    db.session.expire_all()
    lead = db.session.get(Lead, lead.id)
    assert lead.consent_withdrawn_at is not None
    assert all(a.revoked_at is not None for a in lead.assignments)
    assert sorted(rendered("clinic_consent_withdrawn"))[0].startswith("Inquiry")
    assert len(rendered("clinic_consent_withdrawn")) == 2
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "lead.consent_withdrawn")
    )
    assert len(event.changes["clinics_told"]) == 2

    assert "no longer shared" in client.get(link).text
    withdraw_consent(db.session, lead.id)
    assert len(rendered("clinic_consent_withdrawn")) == 2


def test_a_tampered_withdrawal_link_is_refused(client: FlaskClient, app: Flask):
    make_clinic("Alpha")
    lead = routed_lead()
    link = withdraw_link(lead)
    response = client.get(link[:-3] + "xyz")
    assert response.status_code == 400
    assert "not valid" in response.text
