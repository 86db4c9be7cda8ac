"""The patient inquiry form (/inquire): validation, attachments, spam, double submission."""

from __future__ import annotations

import io
import os
import re
import stat
from pathlib import Path

import filetype
import pytest
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.models import (
    AuditEvent,
    ClinicStatus,
    Lead,
    LeadAttachment,
    LeadStatus,
    OutboxMessage,
)
from tests.support.application import make_app
from tests.support.checks import count, field_error
from tests.support.data import PDF_BYTES, PNG_BYTES, inquiry
from tests.support.factories import make_clinic
from tests.support.forms import as_the_browser_sends_it, hidden, submit


def test_inquiry_becomes_a_lead_with_its_processing_task(client: FlaskClient):
    response = submit(client, "/inquire", inquiry())

    assert response.status_code == 302
    lead = db.session.scalar(select(Lead))
    assert lead.status is LeadStatus.NEW
    assert lead.email == "aigerim.testova@example.com"
    assert lead.phone == "+77015550101"
    assert (lead.country, lead.language, lead.budget_usd) == ("KZ", "ru", 15000)
    assert lead.needs_interpreter and not lead.needs_visa_letter
    assert lead.consent_version and lead.consented_at
    assert [(m.task, m.args) for m in db.session.scalars(select(OutboxMessage))] == [
        ("leads.process", [lead.id])
    ]
    received = db.session.scalar(select(AuditEvent))
    assert (received.action, received.object_id, received.actor_label) == (
        "lead.received",
        lead.id,
        "patient",
    )
    assert db.session.scalar(select(Lead.id).where(Lead.phone_digest.is_not(None))) == lead.id
    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    assert lead.reference in thanks


def test_a_number_without_country_code_is_read_for_the_chosen_country(client: FlaskClient):
    submit(client, "/inquire", inquiry(phone="8 701 555 0101"))
    assert db.session.scalar(select(Lead.phone)) == "+77015550101"


BAD_INPUTS = [
    ("full_name", "", "Please tell us your name."),
    ("email", "", "Please enter your email address."),
    ("email", "aigerim@", "Please enter a valid email address"),
    ("phone", "", "Please enter a phone number"),
    ("phone", "555", "Please enter a valid phone number"),
    ("country", "", "Please choose the country you live in."),
    ("country", "XX", "Please choose your country from the list."),
    ("language", "", "Please choose a language."),
    ("language", "klingon", "Please choose a language from the list."),
    ("procedure", "", "Please choose the treatment"),
    ("procedure", "knee-replacement-by-magic", "Please choose a treatment from the list."),
    ("message", "", "Please tell us a little about your situation."),
    ("message", "knee hurts", "between 20 and 5,000 characters"),
    ("message", "x" * 5001, "between 20 and 5,000 characters"),
    ("budget_usd", "-5", "whole number above 0"),
    ("budget_usd", "0", "whole number above 0"),
    ("budget_usd", "12.5", "whole number above 0"),
    ("budget_usd", "lots", "whole number above 0"),
    ("travel_from", "2020-01-01", "from today on"),
    ("travel_from", "next spring", "Please choose a real date"),
    ("travel_to", "2027-02-01", "end date after the start date"),
    ("travel_to", "2027-03-01", "end date after the start date"),
    ("consent", None, "Please tick the box."),
]


@pytest.mark.parametrize(("field", "value", "message"), BAD_INPUTS)
def test_bad_input_gets_its_message_keeps_other_answers_and_stores_nothing(
    client: FlaskClient, field: str, value: object, message: str
):
    response = submit(client, "/inquire", inquiry(**{field: value}))

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in field_error(html, field)
    if field != "full_name":
        assert 'value="Aigerim Testova"' in html
    assert count(Lead) == 0
    assert count(OutboxMessage) == 0
    assert count(AuditEvent) == 0


def test_an_unapproved_chosen_clinic_is_refused(client: FlaskClient):
    clinic = make_clinic("Alpha")
    clinic.status = ClinicStatus.SUSPENDED
    db.session.commit()

    assert client.get(f"/clinics/{clinic.slug}/inquire").status_code == 404
    response = submit(client, "/inquire", inquiry(clinic=clinic.slug))
    assert response.status_code == 422
    assert "not taking inquiries" in response.get_data(as_text=True)
    assert count(Lead) == 0


def test_inquiry_from_a_clinic_page_records_the_chosen_clinic(client: FlaskClient):
    clinic = make_clinic("Alpha")
    page = f"/clinics/{clinic.slug}/inquire"
    html = client.get(page).get_data(as_text=True)
    assert hidden(html, "clinic") == clinic.slug

    submit(client, page, inquiry(clinic=clinic.slug))
    assert db.session.scalar(select(Lead)).chosen_clinic_id == clinic.id


def test_missing_csrf_token_is_refused(client: FlaskClient):
    response = client.post("/inquire", data=inquiry())
    assert response.status_code == 400
    assert count(Lead) == 0


@pytest.mark.parametrize(
    ("content", "name", "content_type"),
    [(PDF_BYTES, "my knee.pdf", "application/pdf"), (PNG_BYTES, "scan", "image/png")],
)
def test_a_file_is_stored_encrypted_outside_served_folders_under_a_random_name(
    app: Flask, client: FlaskClient, content: bytes, name: str, content_type: str
):
    upload = (io.BytesIO(content), name)
    submit(client, "/inquire", inquiry(attachment=upload), content_type="multipart/form-data")

    attachment = db.session.scalar(select(LeadAttachment))
    assert attachment.content_type == content_type
    assert re.fullmatch(r"[0-9a-f]{32}", attachment.stored_name)
    path = Path(app.config["UPLOAD_DIR"]) / attachment.stored_name
    on_disk = path.read_bytes()
    assert filetype.guess(on_disk) is None  # not a PDF or an image without the key
    assert content not in on_disk and content[:8] not in on_disk
    assert Fernet(app.config["DATA_KEYS"][0]).decrypt(on_disk) == content
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert not str(path).startswith(app.static_folder)


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"<html><script>alert(1)</script></html>", "mri.pdf"),
        (b"MZ\x90\x00 not a picture", "knee.jpg"),
        (b"plain text pretending", "scan.png"),
    ],
)
def test_a_file_disguised_by_its_name_is_refused(
    app: Flask, client: FlaskClient, content: bytes, name: str
):
    response = submit(
        client,
        "/inquire",
        inquiry(attachment=(io.BytesIO(content), name)),
        content_type="multipart/form-data",
    )

    assert response.status_code == 422
    assert "Please attach a PDF, JPEG or PNG file" in field_error(response.text, "attachment")
    assert count(Lead) == 0
    assert not Path(app.config["UPLOAD_DIR"]).exists() or not os.listdir(app.config["UPLOAD_DIR"])


def test_a_file_over_10_mb_is_refused_next_to_the_field(client: FlaskClient):
    big = PDF_BYTES + b"0" * (10 * 1024 * 1024)
    response = submit(
        client,
        "/inquire",
        inquiry(attachment=(io.BytesIO(big), "big.pdf")),
        content_type="multipart/form-data",
    )

    assert response.status_code == 422
    assert "10 MB or less" in field_error(response.text, "attachment")
    assert count(Lead) == 0


def test_a_request_far_over_the_limit_gets_a_readable_413(client: FlaskClient):
    huge = PDF_BYTES + b"0" * (12 * 1024 * 1024)
    response = submit(
        client,
        "/inquire",
        inquiry(attachment=(io.BytesIO(huge), "huge.pdf")),
        content_type="multipart/form-data",
    )

    assert response.status_code == 413
    assert "That file is too large" in response.text
    assert count(Lead) == 0


def test_a_filled_honeypot_is_stored_as_spam_and_looks_normal(client: FlaskClient):
    response = submit(client, "/inquire", inquiry(nickname="buy-now"))

    assert response.status_code == 302
    assert "Thank you" in client.get(response.headers["Location"]).text
    lead = db.session.scalar(select(Lead))
    assert (lead.status, lead.spam_reason) == (LeadStatus.SPAM, "honeypot")
    assert count(OutboxMessage) == 0


def test_a_form_sent_faster_than_a_person_can_is_spam(app: Flask, settings: dict[str, str]):
    client = make_app(settings, INQUIRY_MIN_FILL_SECONDS="60").test_client()
    assert client.post("/inquire", data=as_the_browser_sends_it(client)).status_code == 302
    assert db.session.scalar(select(Lead.spam_reason)) == "too-fast"


@pytest.mark.parametrize("timer", [None, ""], ids=["stripped", "emptied"])
def test_a_form_sent_without_its_timer_is_spam_like_one_sent_too_fast(
    app: Flask, settings: dict[str, str], timer: str | None
):
    """A bot that strips or empties the hidden fields must not skip the fill-time check."""
    client = make_app(settings, INQUIRY_MIN_FILL_SECONDS="60").test_client()
    data = as_the_browser_sends_it(client)
    if timer is None:
        del data["started"]
    else:
        data["started"] = timer

    response = client.post("/inquire", data=data)

    assert response.status_code == 302
    assert "Thank you" in client.get(response.headers["Location"]).text
    lead = db.session.scalar(select(Lead))
    assert (lead.status, lead.spam_reason) == (LeadStatus.SPAM, "too-fast")
    assert count(OutboxMessage) == 0


def test_the_same_form_submitted_twice_makes_one_lead(client: FlaskClient):
    data = as_the_browser_sends_it(client)

    first = client.post("/inquire", data=data)
    second = client.post("/inquire", data=data)

    assert first.status_code == second.status_code == 302
    assert count(Lead) == 1
    assert count(OutboxMessage) == 1


def test_the_form_labels_every_input_and_hides_the_trap_without_inline_style(
    client: FlaskClient,
):
    html = client.get("/inquire").text
    ids = set(re.findall(r'<(?:input|textarea|select)[^>]*\bid="([^"]+)"', html))
    labelled = set(re.findall(r'<label for="([^"]+)"', html))
    assert ids - {"csrf_token", "started", "submission_id", "clinic"} <= labelled
    assert 'class="trap" aria-hidden="true"' in html
    assert "style=" not in html and "<script" not in html


def test_staff_download_is_an_attachment_never_cached_and_audited(
    client: FlaskClient, staff_client: FlaskClient
):
    upload = (io.BytesIO(PDF_BYTES), "knee.pdf")
    submit(client, "/inquire", inquiry(attachment=upload), content_type="multipart/form-data")
    lead = db.session.scalar(select(Lead))

    response = staff_client.get(f"/staff/leads/{lead.id}/attachments/{lead.attachments[0].id}")

    assert response.status_code == 200
    assert response.data == PDF_BYTES
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert lead.reference in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response.headers["Cache-Control"]
    assert (
        db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "lead.attachment_downloaded")
        )
        is not None
    )


def test_anonymous_visitors_cannot_download_attachments(client: FlaskClient):
    upload = (io.BytesIO(PDF_BYTES), "knee.pdf")
    submit(client, "/inquire", inquiry(attachment=upload), content_type="multipart/form-data")
    lead = db.session.scalar(select(Lead))
    assert (
        client.get(f"/staff/leads/{lead.id}/attachments/{lead.attachments[0].id}").status_code
        == 302
    )


def limited_app(settings: dict[str, str], **extra: str) -> Flask:
    return make_app(settings, INQUIRY_RATE_LIMIT="2 per minute", **extra)


def post_three_times(client: FlaskClient, forwarded: bool = False) -> list[int]:
    """Three posts; with `forwarded`, each claims another client in X-Forwarded-For."""
    return [
        submit(
            client,
            "/inquire",
            {"full_name": "x"},
            headers={"X-Forwarded-For": f"198.51.100.{n}"} if forwarded else {},
        ).status_code
        for n in range(3)
    ]


def test_posting_is_rate_limited_per_client(settings: dict[str, str]):
    assert post_three_times(limited_app(settings).test_client()) == [422, 422, 429]


def test_the_limit_holds_in_memory_when_redis_is_down(settings: dict[str, str]):
    app = limited_app(settings, RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0")
    assert post_three_times(app.test_client()) == [422, 422, 429]


def test_a_forwarded_for_header_cannot_dodge_the_limit_without_a_proxy(
    settings: dict[str, str],
):
    client = limited_app(settings).test_client()
    assert post_three_times(client, forwarded=True) == [422, 422, 429]


def test_behind_a_configured_proxy_each_client_has_its_own_limit(settings: dict[str, str]):
    client = limited_app(settings, PROXY_FIX_HOPS="1").test_client()
    assert post_three_times(client, forwarded=True) == [422, 422, 422]
