"""A patient who asks for a copy of their data gets it: an emailed link, not a staff download."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Lead, OutboundEmail, PrivacyRequest, StaffUser
from app.services.privacy.patient_links import privacy_token
from tests.support.application import make_app
from tests.support.emails import links_in, path_of, rendered
from tests.support.factories import make_clinic, routed_lead
from tests.support.forms import submit

CANARY = "COPY-CANARY-41c2 my right knee locks when I kneel"
PATIENT = "dana@example.com"


@pytest.fixture
def lead(app: Flask, staff_user: StaffUser) -> Lead:
    make_clinic("Alpha")
    return routed_lead(email=PATIENT, message=f"{CANARY} and more words for the minimum")


def ask_for_a_copy(app: Flask, lead: Lead) -> PrivacyRequest:
    submit(app.test_client(), f"/inquire/privacy/{privacy_token(lead)}", {"kind": "export"})
    return db.session.scalar(select(PrivacyRequest))


def send_the_copy(staff_client: FlaskClient, request: PrivacyRequest) -> Any:
    return submit(staff_client, "/staff/privacy", {}, action=f"/staff/privacy/{request.id}/send")


def copy_link() -> str:
    [link] = [url for url in links_in("patient_data_copy", PATIENT) if "/inquire/my-data/" in url]
    return path_of(link)


def audited(action: str) -> int:
    return db.session.scalar(select(func.count()).where(AuditEvent.action == action))


def test_sending_the_copy_emails_the_patient_a_link_and_no_health_data(
    app: Flask, staff_client: FlaskClient, lead: Lead
):
    request = ask_for_a_copy(app, lead)

    response = send_the_copy(staff_client, request)

    assert response.status_code == 302
    page = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "emailed a link to download their information" in page
    db.session.expire_all()  # the request was answered in the staff member's own session
    [email] = db.session.scalars(
        select(OutboundEmail).where(OutboundEmail.template == "patient_data_copy")
    )
    assert email.recipient == PATIENT
    message = rendered(email)
    assert "/inquire/my-data/" in message.text and "/inquire/my-data/" in message.html
    for part in (message.subject, message.text, message.html):
        assert CANARY not in part and "right knee" not in part
    assert db.session.get(PrivacyRequest, request.id).handled_at is not None
    assert audited("privacy.copy_sent") == 1


def test_the_emailed_link_serves_the_patients_data_and_each_download_is_audited(
    app: Flask, tmp_path: Path, staff_client: FlaskClient, lead: Lead
):
    send_the_copy(staff_client, ask_for_a_copy(app, lead))
    link = copy_link()
    files_before = {p for p in tmp_path.rglob("*") if p.is_file()}
    patient = app.test_client()

    page = patient.get(link)
    assert page.status_code == 200
    download = f"{link}/download"
    assert f'href="{download}"' in page.get_data(as_text=True)
    first, second = patient.get(download), patient.get(download)

    assert first.status_code == second.status_code == 200
    assert first.headers["Cache-Control"] == "no-store"
    assert first.headers["Content-Disposition"].startswith("attachment;")
    document = json.loads(first.data)
    assert document["about"] == PATIENT
    assert [record["reference"] for record in document["leads"]] == [lead.reference]
    assert document["leads"][0]["message"].startswith(CANARY)
    assert audited("privacy.copy_downloaded") == 2
    written = {p for p in tmp_path.rglob("*") if p.is_file()} - files_before
    assert all(p.name.startswith("test.db") for p in written), written


def test_staff_can_still_download_the_copy(app: Flask, staff_client: FlaskClient, lead: Lead):
    request = ask_for_a_copy(app, lead)

    response = submit(
        staff_client, "/staff/privacy", {}, action=f"/staff/privacy/{request.id}/export"
    )

    assert response.status_code == 200
    assert json.loads(response.data)["leads"][0]["message"].startswith(CANARY)
    page = staff_client.get("/staff/privacy").get_data(as_text=True)
    assert f"/staff/privacy/{request.id}/send" in page, "downloading must not close the request"


def test_a_tampered_copy_link_shows_a_kind_page_and_no_data(
    app: Flask, staff_client: FlaskClient, lead: Lead
):
    send_the_copy(staff_client, ask_for_a_copy(app, lead))
    tampered = copy_link() + "x"
    patient = app.test_client()

    for path in (tampered, f"{tampered}/download"):
        response = patient.get(path)
        body = response.get_data(as_text=True)
        assert response.status_code == 400
        assert "This link does not work" in body and "not valid" in body
        assert 'action="/inquire/my-data"' in body, "no way to ask again"
        assert CANARY not in body and lead.reference not in body
    assert audited("privacy.copy_downloaded") == 0


def test_an_expired_copy_link_is_refused_and_the_patient_can_ask_again(
    settings: dict[str, str], app: Flask, staff_client: FlaskClient, lead: Lead
):
    send_the_copy(staff_client, ask_for_a_copy(app, lead))
    link = copy_link()

    expiring = make_app(settings, EMAIL_LINK_MAX_AGE_SECONDS="-1")
    with expiring.app_context():
        patient = expiring.test_client()
        expired = patient.get(f"{link}/download")
        again = submit(patient, link, {"email": PATIENT.upper()}, action="/inquire/my-data")
        stranger = submit(
            patient, link, {"email": "someone@example.com"}, action="/inquire/my-data"
        )

    assert expired.status_code == 400
    assert "expired" in expired.get_data(as_text=True)
    assert CANARY not in expired.get_data(as_text=True)
    assert again.status_code == stranger.status_code == 200
    assert again.get_data(as_text=True) == stranger.get_data(as_text=True)
    assert "a new link is on its way" in again.get_data(as_text=True)
    emails = db.session.scalars(
        select(OutboundEmail).where(OutboundEmail.template == "patient_data_copy")
    ).all()
    assert [e.recipient for e in emails] == [PATIENT, PATIENT]
    assert audited("privacy.copy_downloaded") == 0


def test_a_copy_link_stops_working_once_the_data_is_erased(
    app: Flask, staff_client: FlaskClient, lead: Lead
):
    send_the_copy(staff_client, ask_for_a_copy(app, lead))
    link = copy_link()
    submit(app.test_client(), f"/inquire/privacy/{privacy_token(lead)}", {"kind": "erase"})
    erase = db.session.scalar(select(PrivacyRequest).where(PrivacyRequest.kind == "erase"))
    submit(staff_client, "/staff/privacy", {}, action=f"/staff/privacy/{erase.id}/erase")

    response = app.test_client().get(f"{link}/download")

    assert response.status_code == 400
    assert CANARY not in response.get_data(as_text=True)
