"""Retention, a patient's copy of their data and its erasure, and who has read a lead."""

from __future__ import annotations

import base64
import json
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from app.extensions import db
from app.models import (
    Assignment,
    AuditEvent,
    Lead,
    LeadAttachment,
    LeadNote,
    LeadStatus,
    OutboundEmail,
    PrivacyRequest,
    PrivacyRequestKind,
    StaffUser,
)
from app.models.base import utcnow
from app.services.audit import Actor
from app.services.leads import lifecycle
from app.services.leads.dashboard import build_dashboard
from app.services.leads.processing import process_lead
from app.services.privacy.patient_links import privacy_token
from app.services.privacy.retention import anonymise_expired
from tests.support.application import make_app
from tests.support.clock import NOW
from tests.support.data import PDF_BYTES
from tests.support.factories import (
    add_note,
    add_quote,
    attach_pdf,
    make_clinic,
    make_clinic_user,
    make_lead,
    make_privacy_request,
)
from tests.support.forms import submit
from tests.support.policies import PROCESSING
from tests.support.portal import sign_in

MESSAGE = "RETENTION-CANARY my knee gives way on stairs"


def routed_lead_with_records(app: Flask, email: str, status: LeadStatus | None = None) -> Lead:
    """A lead routed to the clinics there are (or a duplicate of the address's first), with
    a file, a note, emails and a quote; then moved to `status` through the life cycle."""
    lead = make_lead(email=email, phone=f"+7701555{abs(hash(email)) % 10000:04d}", message=MESSAGE)
    attach_pdf(lead, app.config["UPLOAD_DIR"])
    add_note(lead, db.session.scalar(select(StaffUser.id)), "Pain 7/10 on stairs.")
    process_lead(db.session, lead.id, PROCESSING, now=NOW)
    for assignment in lead.assignments:
        add_quote(assignment)
    if status is not None:
        lifecycle.move(db.session, lead, status, Actor.system("test"))
    db.session.commit()
    return lead


def age(lead: Lead, days: int) -> None:
    db.session.execute(
        update(Lead).where(Lead.id == lead.id).values(updated_at=utcnow() - timedelta(days=days))
    )
    db.session.commit()


def file_of(app: Flask, lead: Lead) -> Path:
    return Path(app.config["UPLOAD_DIR"], lead.attachments[0].stored_name)


def raw_lead(settings: dict[str, str], lead_id: int) -> tuple:
    with sqlite3.connect(settings["DATABASE_URL"].removeprefix("sqlite:///")) as connection:
        return connection.execute(
            "SELECT full_name, email, phone, phone_digest, message, status, country, procedure_id"
            " FROM leads WHERE id = ?",
            (lead_id,),
        ).fetchone()


@pytest.fixture
def clinics(app: Flask, staff_user: StaffUser) -> None:
    """Alpha gets every lead; a staff member writes the notes."""
    make_clinic("Alpha")


def test_retention_destroys_old_settled_leads_and_keeps_the_aggregates(
    app: Flask, settings: dict[str, str], clinics: None
):
    old_closed = routed_lead_with_records(app, "old.closed@example.com", LeadStatus.CLOSED)
    old_open = routed_lead_with_records(app, "old.open@example.com")
    new_closed = routed_lead_with_records(app, "new.closed@example.com", LeadStatus.CLOSED)
    age(old_closed, 400)
    age(old_open, 400)
    age(new_closed, 30)
    make_privacy_request(
        PrivacyRequestKind.EXPORT,
        "old.request@example.com",
        handled_at=utcnow() - timedelta(days=400),
    )
    make_privacy_request(PrivacyRequestKind.ERASE, "open.request@example.com")
    old_file, kept_files = (
        file_of(app, old_closed),
        [file_of(app, old_open), file_of(app, new_closed)],
    )
    before = build_dashboard(db.session)

    assert anonymise_expired(db.session, 365, app.config["UPLOAD_DIR"], utcnow()) == (1, 1)

    name, email, phone, digest, message, status, country, procedure = raw_lead(
        settings, old_closed.id
    )
    assert (name, email, phone, digest, message) == ("", "", "", None, "")
    assert (status, country, procedure) == ("closed", "KZ", old_closed.procedure_id)
    assert not old_file.exists()
    assert (
        db.session.scalar(select(LeadAttachment).where(LeadAttachment.lead_id == old_closed.id))
        is None
    )
    assert not db.session.scalars(select(LeadNote).where(LeadNote.lead_id == old_closed.id)).all()
    assert not db.session.scalars(
        select(OutboundEmail).where(OutboundEmail.lead_id == old_closed.id)
    ).all()
    [assignment] = db.session.scalars(select(Assignment).where(Assignment.lead_id == old_closed.id))
    assert assignment.quote is not None and assignment.revoked_at is not None
    after = build_dashboard(db.session)
    assert (after.by_status, after.by_country, after.by_procedure) == (
        before.by_status,
        before.by_country,
        before.by_procedure,
    )

    for untouched in (old_open, new_closed):
        db.session.expire_all()
        lead = db.session.get(Lead, untouched.id)
        assert lead.message == MESSAGE and lead.full_name and lead.anonymised_at is None
    assert all(path.exists() for path in kept_files)
    [run] = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "retention.anonymised")
    )
    assert run.changes["leads"] == 1 and run.changes["files"] == 1 and run.changes["requests"] == 1
    assert [r.email for r in db.session.scalars(select(PrivacyRequest))] == [
        "open.request@example.com"
    ]

    assert anonymise_expired(db.session, 365, app.config["UPLOAD_DIR"], utcnow()) == (0, 0)


def test_the_confirmation_link_files_a_request_once_and_staff_are_told(
    app: Flask, client: FlaskClient, clinics: None
):
    lead = routed_lead_with_records(app, "dana@example.com")
    page = f"/inquire/privacy/{privacy_token(lead)}"
    assert "Delete my information" in client.get(page).get_data(as_text=True)

    nothing = submit(client, page, {})
    assert nothing.status_code == 422
    assert "Please choose one of the two." in nothing.get_data(as_text=True)
    for _ in range(2):
        done = submit(client, page, {"kind": "erase"})
        assert "We will delete your information" in done.get_data(as_text=True)

    [request] = db.session.scalars(select(PrivacyRequest))
    assert (request.kind.value, request.email, request.handled_at) == ("erase", lead.email, None)
    [told] = db.session.scalars(
        select(OutboundEmail).where(OutboundEmail.template == "staff_privacy_request")
    )
    assert told.recipient == app.config["STAFF_NOTIFY_EMAIL"]


def test_a_tampered_or_expired_privacy_link_is_refused_clearly(
    settings: dict[str, str], client: FlaskClient, clinics: None, app: Flask
):
    lead = routed_lead_with_records(app, "dana@example.com")
    tampered = client.get(f"/inquire/privacy/{privacy_token(lead)}x")
    assert tampered.status_code == 400
    assert "not valid" in tampered.get_data(as_text=True)

    expiring = make_app(settings, PRIVACY_LINK_MAX_AGE_SECONDS="-1")
    with expiring.app_context():
        token = privacy_token(db.session.get(Lead, lead.id))
        expired = expiring.test_client().get(f"/inquire/privacy/{token}")
    assert expired.status_code == 400
    assert "expired" in expired.get_data(as_text=True)
    assert not db.session.scalars(select(PrivacyRequest)).all()


def ask(client: FlaskClient, lead: Lead, kind: str) -> PrivacyRequest:
    submit(client, f"/inquire/privacy/{privacy_token(lead)}", {"kind": kind})
    return db.session.scalar(select(PrivacyRequest).where(PrivacyRequest.kind == kind))


def test_the_export_holds_every_record_of_the_address(
    app: Flask, client: FlaskClient, staff_client: FlaskClient, clinics: None
):
    first = routed_lead_with_records(app, "dana@example.com")
    second = routed_lead_with_records(app, "dana@example.com")
    routed_lead_with_records(app, "someone.else@example.com")
    request = ask(app.test_client(), first, "export")

    response = submit(
        staff_client, "/staff/privacy", {}, action=f"/staff/privacy/{request.id}/export"
    )

    assert response.status_code == 200
    assert response.headers["Content-Disposition"].endswith(".json")
    document = json.loads(response.data)
    assert [lead["reference"] for lead in document["leads"]] == [first.reference, second.reference]
    record = document["leads"][0]
    assert record["message"] == MESSAGE and record["phone"] == first.phone
    assert base64.b64decode(record["attachments"][0]["content_base64"]) == PDF_BYTES
    assert record["shared_with"][0]["clinic"] == "Alpha"
    assert record["shared_with"][0]["quote"]["price"] == [9000, 12000, "USD"]
    db.session.expire_all()
    # Staff looking is not the patient answered: that is the emailed copy (test_patient_data_copy).
    assert db.session.get(PrivacyRequest, request.id).handled_at is None
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "privacy.exported"))


def test_erasure_anonymises_every_lead_of_the_address_and_the_clinics_are_told(
    app: Flask, settings: dict[str, str], staff_client: FlaskClient, clinics: None
):
    first = routed_lead_with_records(app, "dana@example.com")
    second = routed_lead_with_records(app, "dana@example.com")
    other = routed_lead_with_records(app, "someone.else@example.com")
    files = [file_of(app, first), file_of(app, second)]
    request = ask(app.test_client(), first, "erase")
    alpha_portal = sign_in(app.test_client(), make_clinic_user(first.assignments[0].clinic).email)
    assert alpha_portal.get(f"/portal/leads/{first.id}").status_code == 200

    response = submit(
        staff_client, "/staff/privacy", {}, action=f"/staff/privacy/{request.id}/erase"
    )

    assert response.status_code == 302
    page = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "2 leads anonymised; the clinics that had them are told." in page
    for lead in (first, second):
        name, email, phone, _, message, *_rest = raw_lead(settings, lead.id)
        assert (name, email, phone, message) == ("", "", "", "")
    assert not any(path.exists() for path in files)
    assert file_of(app, other).exists()
    assert raw_lead(settings, other.id)[1] == "someone.else@example.com"
    assert not db.session.scalars(
        select(OutboundEmail).where(OutboundEmail.recipient == "dana@example.com")
    ).all()
    told = db.session.scalars(
        select(OutboundEmail).where(OutboundEmail.template == "clinic_consent_withdrawn")
    ).all()
    # The second inquiry was a duplicate of the first, so only the first reached Alpha.
    assert second.duplicate_of_id == first.id
    assert [e.lead_id for e in told] == [first.id]
    assert alpha_portal.get(f"/portal/leads/{first.id}").status_code == 404
    db.session.expire_all()
    assert db.session.get(PrivacyRequest, request.id).email == ""
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "privacy.erased"))
    assert event.changes["leads"] == [first.reference, second.reference]

    again = submit(staff_client, "/staff/privacy", {}, action=f"/staff/privacy/{request.id}/erase")
    assert "already handled" in staff_client.get(again.headers["Location"]).get_data(as_text=True)


def test_the_lead_page_shows_who_has_read_it(app: Flask, staff_client: FlaskClient, clinics: None):
    lead = routed_lead_with_records(app, "dana@example.com")
    clinic = sign_in(app.test_client(), make_clinic_user(lead.assignments[0].clinic).email)
    clinic.get(f"/portal/leads/{lead.id}")
    clinic.get(f"/portal/leads/{lead.id}/attachments/{lead.attachments[0].id}")

    page = staff_client.get(f"/staff/leads/{lead.id}").get_data(as_text=True)

    assert "alpha@clinic.example.com (clinic): 2 reads" in page
    assert "triager@careroute.test (staff): 1 read" in page
