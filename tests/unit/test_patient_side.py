"""What a patient does from their inquiry's page, and what the clinics see of it: messages,
documents added later, going ahead with a clinic, agreeing to a further clinic, the visa
letter."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.models import (
    Assignment,
    ClinicResponse,
    ClinicUser,
    Lead,
    LeadMessage,
    LeadStatus,
    OutboundEmail,
    PrivacyRequestKind,
    RevokedReason,
    StaffUser,
)
from app.services.answers import answering
from app.services.answers.deadlines import check_deadlines
from app.services.privacy import requests as privacy_requests
from app.services.privacy.patient_links import status_token
from app.services.privacy.retention import anonymise
from tests.support.checks import count, field_error
from tests.support.clock import NOW
from tests.support.data import PDF_BYTES
from tests.support.emails import rendered
from tests.support.factories import (
    make_clinic,
    make_clinic_user,
    make_privacy_request,
    routed_lead,
)
from tests.support.forms import submit
from tests.support.policies import DEADLINES
from tests.support.portal import sign_in

SECRET = "The pain wakes me at night since the fall in March"


@dataclass
class Shared:
    """A lead routed to Alpha and Bravo, each with a portal account; Charlie had nothing."""

    lead: Lead
    alpha: ClinicUser
    bravo: ClinicUser
    charlie: ClinicUser

    @property
    def page(self) -> str:
        return f"/inquire/status/{status_token(self.lead)}"


@pytest.fixture
def shared(app: Flask) -> Shared:
    alpha, bravo = make_clinic("Alpha"), make_clinic("Bravo")
    lead = routed_lead(language="en", email="dana@example.com", needs_visa_letter=True)
    charlie = make_clinic("Charlie")
    return Shared(lead, make_clinic_user(alpha), make_clinic_user(bravo), make_clinic_user(charlie))


def emails(template: str) -> list[OutboundEmail]:
    return list(db.session.scalars(select(OutboundEmail).where(OutboundEmail.template == template)))


def place(lead: Lead, user: ClinicUser) -> Assignment:
    db.session.expire_all()
    return db.session.scalars(
        select(Assignment).where(
            Assignment.lead_id == lead.id, Assignment.clinic_id == user.clinic_id
        )
    ).one()


def answer(lead: Lead, user: ClinicUser) -> None:
    answering.answer(db.session, lead.id, user.id, ClinicResponse.CONTACTED, max_clinics=2)


def alpha_declines(shared: Shared) -> None:
    """Alpha turns the lead down: with two places, it is offered to Charlie."""
    answering.answer(
        db.session,
        shared.lead.id,
        shared.alpha.id,
        ClinicResponse.DECLINED,
        max_clinics=2,
        reason="We do not treat this grade.",
    )


def confirm_date(clinic: FlaskClient, lead: Lead, days_ahead: int) -> Any:
    """The chosen clinic confirms a treatment date in its portal."""
    lead_page = f"/portal/leads/{lead.id}"
    return submit(
        clinic,
        lead_page,
        {"booking-treatment_date": (NOW + timedelta(days=days_ahead)).date().isoformat()},
        action=f"{lead_page}/booking",
    )


def portal(app: Flask, user: ClinicUser) -> FlaskClient:
    return sign_in(app.test_client(), user.email)


def test_a_message_each_way_arrives_with_a_notice_that_holds_no_text(
    app: Flask, client: FlaskClient, shared: Shared
):
    alpha = place(shared.lead, shared.alpha)
    sent = submit(
        client,
        shared.page,
        {f"m{alpha.id}-body": SECRET},
        action=f"{shared.page}/clinics/{alpha.id}/messages",
    )
    assert sent.status_code == 302

    clinic = portal(app, shared.alpha)
    lead_page = f"/portal/leads/{shared.lead.id}"
    assert SECRET in clinic.get(lead_page).text
    replied = submit(
        clinic,
        lead_page,
        {"message-body": "Please come on Monday."},
        action=f"{lead_page}/messages",
    )
    assert replied.status_code == 302
    assert "Please come on Monday." in client.get(shared.page).text

    [to_clinic] = emails("clinic_new_message")
    [to_patient] = emails("patient_new_message")
    assert to_clinic.recipient == shared.alpha.clinic.email
    assert to_patient.recipient == "dana@example.com"
    for notice in (to_clinic, to_patient):
        email = rendered(notice)
        assert SECRET not in email.text + email.html
        assert "Please come on Monday." not in email.text + email.html
    stored = db.session.execute(select(LeadMessage.body).select_from(LeadMessage)).all()
    assert {row.body for row in stored} == {SECRET, "Please come on Monday."}
    # Bravo holds the lead too, and sees nothing of Alpha's thread.
    assert SECRET not in portal(app, shared.bravo).get(lead_page).text


def test_several_messages_in_a_row_make_one_notice(client: FlaskClient, shared: Shared):
    alpha = place(shared.lead, shared.alpha)
    for text in ("First thing", "Second thing", "Third thing"):
        submit(
            client,
            shared.page,
            {f"m{alpha.id}-body": text},
            action=f"{shared.page}/clinics/{alpha.id}/messages",
        )
    assert count(LeadMessage) == 3
    assert len(emails("clinic_new_message")) == 1


def test_an_empty_message_is_refused_next_to_its_field(client: FlaskClient, shared: Shared):
    alpha = place(shared.lead, shared.alpha)
    response = submit(
        client,
        shared.page,
        {f"m{alpha.id}-body": "  "},
        action=f"{shared.page}/clinics/{alpha.id}/messages",
    )
    assert response.status_code == 422
    assert "Please write your message." in field_error(response.text, f"m{alpha.id}-body")
    assert count(LeadMessage) == 0


def test_one_inquirys_link_opens_nothing_of_anothers(client: FlaskClient, shared: Shared):
    other = routed_lead(
        email="someone.else@example.com", full_name="Other Patient", phone="+77015550199"
    )
    theirs = place(other, shared.alpha)
    response = submit(
        client,
        shared.page,
        {f"m{theirs.id}-body": "Hello"},
        action=f"{shared.page}/clinics/{theirs.id}/messages",
    )
    assert response.status_code == 404
    stop = submit(client, shared.page, {}, action=f"{shared.page}/clinics/{theirs.id}/stop")
    assert stop.status_code == 404
    assert place(other, shared.alpha).revoked_at is None and count(LeadMessage) == 0


def test_a_tampered_link_acts_on_nothing(client: FlaskClient, shared: Shared):
    alpha = place(shared.lead, shared.alpha)
    forged = f"{shared.page}x/clinics/{alpha.id}/stop"
    response = submit(client, shared.page, {}, action=forged)
    assert response.status_code == 400 and "This link does not work" in response.text
    assert place(shared.lead, shared.alpha).revoked_at is None


def test_a_document_added_later_reaches_the_clinics_that_hold_the_lead_only(
    app: Flask, client: FlaskClient, shared: Shared
):
    added = submit(
        client,
        shared.page,
        {"files": [(io.BytesIO(PDF_BYTES), "mri.pdf"), (io.BytesIO(PDF_BYTES), "report.pdf")]},
        action=f"{shared.page}/documents",
        content_type="multipart/form-data",
    )
    assert added.status_code == 302
    db.session.expire_all()
    lead = db.session.get(Lead, shared.lead.id)
    first, second = lead.attachments
    for user in (shared.alpha, shared.bravo):
        got = portal(app, user).get(f"/portal/leads/{lead.id}/attachments/{second.id}")
        assert got.status_code == 200 and got.data == PDF_BYTES
    outsider = portal(app, shared.charlie)
    assert outsider.get(f"/portal/leads/{lead.id}/attachments/{first.id}").status_code == 404
    assert sorted(e.recipient for e in emails("clinic_new_document")) == sorted(
        [shared.alpha.clinic.email, shared.bravo.clinic.email]
    )


def test_a_file_that_is_not_a_document_is_refused_and_nothing_stored(
    client: FlaskClient, shared: Shared
):
    response = submit(
        client,
        shared.page,
        {"files": [(io.BytesIO(b"MZ not a pdf"), "virus.exe")]},
        action=f"{shared.page}/documents",
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "PDF, JPEG or PNG" in field_error(response.text, "files")
    db.session.expire_all()
    assert db.session.get(Lead, shared.lead.id).attachments == []


def test_choosing_a_clinic_and_its_confirmation_book_the_lead_and_tell_the_others_once(
    app: Flask, client: FlaskClient, shared: Shared
):
    answer(shared.lead, shared.alpha)
    answer(shared.lead, shared.bravo)
    alpha, bravo = place(shared.lead, shared.alpha), place(shared.lead, shared.bravo)

    submit(client, shared.page, {}, action=f"{shared.page}/clinics/{alpha.id}/choose")
    submit(client, shared.page, {}, action=f"{shared.page}/clinics/{bravo.id}/choose")
    assert [e.recipient for e in emails("clinic_choice_changed")] == [shared.alpha.clinic.email]
    assert len(emails("clinic_chosen")) == 2 and len(emails("staff_clinic_chosen")) == 2
    assert place(shared.lead, shared.alpha).chosen_at is None

    clinic = portal(app, shared.bravo)
    lead_page = f"/portal/leads/{shared.lead.id}"
    booked = confirm_date(clinic, shared.lead, days_ahead=40)
    assert booked.status_code == 302
    treatment = (NOW + timedelta(days=40)).date()

    db.session.expire_all()
    lead = db.session.get(Lead, shared.lead.id)
    assert lead.status is LeadStatus.BOOKED and lead.treatment_date == treatment
    assert place(lead, shared.alpha).revoked_reason is RevokedReason.CHOSE_OTHER
    assert [e.recipient for e in emails("clinic_chose_elsewhere")] == [shared.alpha.clinic.email]
    assert [e.recipient for e in emails("patient_booked")] == ["dana@example.com"]
    assert "Your treatment is booked" in client.get(shared.page).text
    assert portal(app, shared.alpha).get(lead_page).status_code == 404
    again = submit(client, shared.page, {}, action=f"{shared.page}/clinics/{alpha.id}/choose")
    assert again.status_code == 302 and len(emails("clinic_chosen")) == 2


def test_only_the_chosen_clinic_can_book(app: Flask, shared: Shared):
    answer(shared.lead, shared.alpha)
    clinic = portal(app, shared.alpha)
    refused = confirm_date(clinic, shared.lead, days_ahead=90)
    assert refused.status_code == 422
    assert "has not chosen this clinic" in field_error(refused.text, "booking-treatment_date")
    db.session.expire_all()
    assert db.session.get(Lead, shared.lead.id).status is not LeadStatus.BOOKED


def test_a_further_clinic_sees_only_procedure_and_country_until_the_patient_agrees(
    app: Flask, client: FlaskClient, shared: Shared
):
    alpha_declines(shared)
    offered = place(shared.lead, shared.charlie)
    assert offered.awaiting_consent
    [ask] = emails("patient_consent_request")
    assert "Charlie" in rendered(ask).subject
    charlie = portal(app, shared.charlie)
    lead_page = f"/portal/leads/{shared.lead.id}"
    inbox = charlie.get("/portal/").text
    assert shared.lead.reference in inbox and "has not yet agreed" in inbox
    assert charlie.get(lead_page).status_code == 404
    assert "Test Patient" not in inbox and "dana@example.com" not in inbox
    assert not [e for e in emails("clinic_new_lead") if e.recipient == offered.clinic.email]

    page = client.get(shared.page).text
    assert "May we share your question with Charlie?" in page
    submit(client, shared.page, {}, action=f"{shared.page}/clinics/{offered.id}/agree")

    assert place(shared.lead, shared.charlie).shared_at is not None
    assert "dana@example.com" in charlie.get(lead_page).text
    assert [e.recipient for e in emails("clinic_new_lead")].count(offered.clinic.email) == 1


def test_no_answer_in_time_means_no_sharing_and_staff_see_why(
    app: Flask, staff_client: FlaskClient, shared: Shared
):
    alpha_declines(shared)
    offered = place(shared.lead, shared.charlie)
    waited = offered.consent_requested_at + timedelta(hours=DEADLINES.consent_wait_hours)

    check_deadlines(db.session, DEADLINES, waited - timedelta(minutes=1))
    assert place(shared.lead, shared.charlie).revoked_at is None
    check_deadlines(db.session, DEADLINES, waited + timedelta(minutes=1))

    assert place(shared.lead, shared.charlie).revoked_reason is RevokedReason.CONSENT_EXPIRED
    assert portal(app, shared.charlie).get(f"/portal/leads/{shared.lead.id}").status_code == 404
    detail = staff_client.get(f"/staff/leads/{shared.lead.id}").text
    assert "the patient did not agree in time" in detail


def test_refusing_a_clinic_or_stopping_one_keeps_it_away(
    app: Flask, client: FlaskClient, shared: Shared
):
    bravo = place(shared.lead, shared.bravo)
    submit(client, shared.page, {}, action=f"{shared.page}/clinics/{bravo.id}/stop")

    assert place(shared.lead, shared.bravo).revoked_reason is RevokedReason.PATIENT_STOPPED
    assert portal(app, shared.bravo).get(f"/portal/leads/{shared.lead.id}").status_code == 404
    assert [e.recipient for e in emails("clinic_consent_withdrawn")] == [shared.bravo.clinic.email]
    db.session.expire_all()
    lead = db.session.get(Lead, shared.lead.id)
    assert lead.status is LeadStatus.ROUTED and lead.consent_withdrawn_at is None
    page = client.get(shared.page).text
    assert "You chose not to share your question with this clinic." in page
    assert 'href="/inquire/withdraw/' in page  # and stopping for every clinic is one link away


def test_the_visa_letter_is_asked_for_uploaded_and_downloaded_from_the_page_only(
    app: Flask, client: FlaskClient, shared: Shared
):
    answer(shared.lead, shared.alpha)
    alpha = place(shared.lead, shared.alpha)
    submit(client, shared.page, {}, action=f"{shared.page}/clinics/{alpha.id}/choose")
    clinic = portal(app, shared.alpha)
    lead_page = f"/portal/leads/{shared.lead.id}"
    confirm_date(clinic, shared.lead, days_ahead=30)

    submit(client, shared.page, {}, action=f"{shared.page}/visa-letter")
    assert [e.recipient for e in emails("clinic_visa_letter_requested")] == [
        shared.alpha.clinic.email
    ]
    uploaded = submit(
        clinic,
        lead_page,
        {"visa-letter": (io.BytesIO(PDF_BYTES), "letter.pdf")},
        action=f"{lead_page}/visa-letter",
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 302

    [ready] = emails("patient_visa_letter_ready")
    assert not rendered(ready).html.count("attachment")
    page = client.get(shared.page).text
    assert "Download your visa letter" in page
    db.session.expire_all()
    [letter] = db.session.get(Lead, shared.lead.id).attachments
    download = client.get(f"{shared.page}/visa-letter/{letter.id}")
    assert download.status_code == 200 and download.data == PDF_BYTES
    other = routed_lead(email="else@example.com")
    assert (
        client.get(f"/inquire/status/{status_token(other)}/visa-letter/{letter.id}").status_code
        == 404
    )


def test_threads_are_in_the_patients_copy_and_erased_with_the_lead(
    app: Flask, client: FlaskClient, shared: Shared, staff_user: StaffUser
):
    alpha = place(shared.lead, shared.alpha)
    submit(
        client,
        shared.page,
        {f"m{alpha.id}-body": SECRET},
        action=f"{shared.page}/clinics/{alpha.id}/messages",
    )
    db.session.expire_all()
    lead = db.session.get(Lead, shared.lead.id)
    request = make_privacy_request(PrivacyRequestKind.EXPORT, lead.email, lead)
    copy = privacy_requests.export_data(
        db.session, request.id, staff_user.id, app.config["UPLOAD_DIR"]
    )
    [record] = [c for c in copy["leads"][0]["shared_with"] if c["clinic"] == "Alpha"]
    assert record["messages"][0]["text"] == SECRET

    anonymise(db.session, lead, NOW, erased_by=None)
    db.session.commit()
    assert count(LeadMessage) == 0
