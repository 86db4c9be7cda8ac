"""The patient's side of the loop on the real stack: PostgreSQL, Redis, a celery worker, the
outbox relay and an SMTP server. A quote reaches the patient's page once; a message each
way arrives as a notice without its text; a document added later reaches the clinics that
hold the lead and no other; a choice and its confirmation book the lead and tell the others
once; a further clinic sees nothing of the patient until they agree."""

from __future__ import annotations

import io
from collections import Counter
from datetime import date, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import Assignment, ClinicResponse, EmailStatus, Lead, LeadStatus, OutboundEmail
from app.services.answers import answering
from app.services.privacy.patient_links import status_token
from tests.support.data import PDF_BYTES, quote_answers
from tests.support.factories import make_clinic, make_clinic_user, send_inquiry
from tests.support.forms import submit
from tests.support.portal import sign_in
from tests.support.smtp_server import SmtpServer
from tests.support.stack import WorkerProcess, wait_until

pytestmark = pytest.mark.integration

PATIENT_WROTE = "Can I walk the day after the injection?"
CLINIC_WROTE = "Yes, with a brace, for short distances."


def all_mail_sent() -> bool:
    db.session.expire_all()
    return not db.session.scalars(
        select(OutboundEmail).where(OutboundEmail.status != EmailStatus.SENT)
    ).all()


def delivered(smtp_server: SmtpServer) -> Counter[str]:
    """Emails received, by template, read from the outbox rows the server got."""
    wait_until(all_mail_sent, message="every queued email sent")
    assert len(smtp_server.messages) == len(db.session.scalars(select(OutboundEmail)).all())
    return Counter(e.template for e in db.session.scalars(select(OutboundEmail)))


def test_the_patients_loop_end_to_end(
    stack_app: Flask, worker: WorkerProcess, relay_thread: None, smtp_server: SmtpServer
):
    alpha, bravo = make_clinic("Alpha"), make_clinic("Bravo")
    lead = send_inquiry(stack_app, language="en")
    smtp_server.wait_for(3)
    alpha_user, bravo_user = make_clinic_user(alpha), make_clinic_user(bravo)
    patient = stack_app.test_client()
    page = f"/inquire/status/{status_token(lead)}"
    lead_page = f"/portal/leads/{lead.id}"
    alpha_portal = sign_in(stack_app.test_client(), alpha_user.email)
    bravo_portal = sign_in(stack_app.test_client(), bravo_user.email)

    # A quote reaches the patient's page, once, with its parts lined up.
    quoted = submit(alpha_portal, lead_page, quote_answers(), action=f"{lead_page}/quote")
    assert quoted.status_code == 302
    shown = patient.get(page).text
    assert shown.count("Our coordinator speaks Russian.") == 1
    assert "9,000,000" in shown

    # A message each way; each side is told by a notice that holds no text.
    alpha_place = db.session.scalar(
        select(Assignment).where(Assignment.lead_id == lead.id, Assignment.clinic_id == alpha.id)
    )
    assert alpha_place is not None
    submit(
        patient,
        page,
        {f"m{alpha_place.id}-body": PATIENT_WROTE},
        action=f"{page}/clinics/{alpha_place.id}/messages",
    )
    submit(alpha_portal, lead_page, {"message-body": CLINIC_WROTE}, action=f"{lead_page}/messages")
    assert PATIENT_WROTE in alpha_portal.get(lead_page).text
    assert CLINIC_WROTE in patient.get(page).text
    sent = delivered(smtp_server)
    assert sent["clinic_new_message"] == 1 and sent["patient_new_message"] == 1
    for message in smtp_server.messages:
        assert PATIENT_WROTE not in message.as_string()
        assert CLINIC_WROTE not in message.as_string()

    # A document added later: both clinics holding the lead see it, a third never does.
    charlie = make_clinic("Charlie")
    charlie_user = make_clinic_user(charlie)
    added = submit(
        patient,
        page,
        {"files": [(io.BytesIO(PDF_BYTES), "mri.pdf")]},
        action=f"{page}/documents",
        content_type="multipart/form-data",
    )
    assert added.status_code == 302
    db.session.expire_all()
    [document] = db.session.get(Lead, lead.id).attachments
    download = f"{lead_page}/attachments/{document.id}"
    assert alpha_portal.get(download).data == PDF_BYTES
    assert bravo_portal.get(download).data == PDF_BYTES
    charlie_portal = sign_in(stack_app.test_client(), charlie_user.email)
    assert charlie_portal.get(download).status_code == 404
    assert delivered(smtp_server)["clinic_new_document"] == 2

    # Bravo declines: Charlie is offered the lead, and sees no contact or message until the
    # patient agrees.
    answering.answer(
        db.session,
        lead.id,
        bravo_user.id,
        ClinicResponse.DECLINED,
        max_clinics=2,
        reason="We do not treat this grade.",
    )
    inbox = charlie_portal.get("/portal/").text
    assert lead.reference in inbox and lead.email not in inbox
    assert charlie_portal.get(lead_page).status_code == 404
    assert charlie_portal.get(download).status_code == 404
    assert delivered(smtp_server)["clinic_new_lead"] == 2  # not Charlie's yet
    charlie_place = db.session.scalar(
        select(Assignment).where(Assignment.lead_id == lead.id, Assignment.clinic_id == charlie.id)
    )
    assert charlie_place is not None
    submit(patient, page, {}, action=f"{page}/clinics/{charlie_place.id}/agree")
    assert lead.email in charlie_portal.get(lead_page).text
    assert delivered(smtp_server)["clinic_new_lead"] == 3

    # The patient chooses Alpha; Alpha confirms a date: booked, and the others told once.
    submit(patient, page, {}, action=f"{page}/clinics/{alpha_place.id}/choose")
    treatment = date.today() + timedelta(days=30)
    booked = submit(
        alpha_portal,
        lead_page,
        {"booking-treatment_date": treatment.isoformat()},
        action=f"{lead_page}/booking",
    )
    assert booked.status_code == 302
    db.session.expire_all()
    done = db.session.get(Lead, lead.id)
    assert done.status is LeadStatus.BOOKED and done.treatment_date == treatment
    sent = delivered(smtp_server)
    assert sent["clinic_chosen"] == 1 and sent["patient_booked"] == 1
    told = [
        e.recipient
        for e in db.session.scalars(
            select(OutboundEmail).where(OutboundEmail.template == "clinic_chose_elsewhere")
        )
    ]
    assert told == [charlie.email]  # Bravo declined: it had nothing more to hear
    assert charlie_portal.get(lead_page).status_code == 404
