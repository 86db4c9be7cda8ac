"""The lead's life cycle: one table of moves, and what each move promises holds afterwards."""

from __future__ import annotations

import itertools
import re
import sqlite3
from datetime import date, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.models import (
    Assignment,
    AuditEvent,
    Clinic,
    ClinicResponse,
    ClinicStatus,
    Lead,
    LeadNote,
    LeadStatus,
    OutboundEmail,
    StaffUser,
)
from app.services.answers import answering
from app.services.answers.answering import QuoteDetails
from app.services.answers.deadlines import check_deadlines
from app.services.answers.stats import answer_stats
from app.services.audit import Actor
from app.services.leads import actions, lifecycle, routing
from app.services.leads.processing import process_lead
from app.services.privacy.consent import withdraw_consent
from app.services.privacy.retention import anonymise_expired
from tests.support.clock import CALENDAR, NOW, at
from tests.support.emails import path_of, rendered
from tests.support.factories import (
    attach_pdf,
    make_clinic,
    make_clinic_user,
    make_lead,
    routed_lead,
)
from tests.support.forms import post, submit
from tests.support.policies import DEADLINES, PROCESSING
from tests.support.portal import sign_in

S = LeadStatus
ENDINGS = [S.CLOSED, S.LOST, S.SPAM, S.DUPLICATE, S.WITHDRAWN]


def emails(template: str) -> list[OutboundEmail]:
    return list(db.session.scalars(select(OutboundEmail).where(OutboundEmail.template == template)))


def reload(lead: Lead) -> Lead:
    db.session.expire_all()
    return db.session.get(Lead, lead.id)


def end(lead: Lead, status: LeadStatus, staff: StaffUser) -> None:
    if status is S.WITHDRAWN:
        withdraw_consent(db.session, lead.id)
    else:
        actions.change_status(db.session, [lead.id], staff.id, status, reason="went home")


@pytest.fixture
def two_clinics(app: Flask) -> tuple[Clinic, Clinic]:
    return make_clinic("Alpha", capacity=50), make_clinic("Bravo", capacity=50)


# The table, walked: every move it allows works and is audited; every other is refused.
ALL_MOVES = [(a, b) for a in LeadStatus for b in LeadStatus if a is not b]


@pytest.mark.parametrize(("before", "after"), ALL_MOVES, ids=lambda s: s.value)
def test_every_move_of_the_table_is_allowed_or_refused_clearly(
    app: Flask, before: LeadStatus, after: LeadStatus
):
    lead = make_lead(status=before)
    allowed = after in lifecycle.TRANSITIONS[before]
    if not allowed:
        with pytest.raises(lifecycle.TransitionRefused, match=after.value):
            lifecycle.move(db.session, lead, after, Actor.system("test"), reason="r")
        db.session.rollback()
        assert reload(lead).status is before
        return
    lifecycle.move(db.session, lead, after, Actor.system("test"), reason="r")
    db.session.commit()
    assert reload(lead).status is after
    event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event.object_id == lead.id and event.changes["status"] == [before.value, after.value]


def test_the_table_reads_as_the_design_says():
    t = lifecycle.TRANSITIONS
    path = [S.NEW, S.ROUTED, S.CONTACTED, S.QUOTED, S.BOOKED, S.CLOSED]
    assert all(b in t[a] for a, b in itertools.pairwise(path))
    assert all(not t[s] for s in (S.CLOSED, S.LOST, S.WITHDRAWN))
    assert t[S.SPAM] == {S.NEW} and t[S.DUPLICATE] == {S.NEW}
    assert set(lifecycle.ACTIVE) | set(ENDINGS) == set(LeadStatus)


def test_a_lost_lead_needs_a_reason(app: Flask, staff_user: StaffUser):
    lead = make_lead(status=S.ROUTED)
    with pytest.raises(actions.ActionRefused, match="reason"):
        actions.change_status(db.session, [lead.id], staff_user.id, S.LOST, reason=" ")
    assert reload(lead).status is S.ROUTED


def test_staff_are_offered_only_the_moves_allowed_from_where_the_lead_is(
    app: Flask, staff_client: FlaskClient
):
    lead = make_lead(status=S.CLOSED)
    page = staff_client.get(f"/staff/leads/{lead.id}").text
    assert 'name="status"' not in page  # a closed lead goes nowhere
    lead = make_lead(status=S.QUOTED, email="q@example.com")
    page = staff_client.get(f"/staff/leads/{lead.id}").text
    offered = set(re.findall(r'<option value="(\w+)"', page.split('name="status"')[1]))
    offered &= {s.value for s in LeadStatus}
    assert offered == {"booked", "lost", "closed", "withdrawn"}


def test_a_refused_move_by_staff_is_a_clear_message_and_changes_nothing(
    app: Flask, staff_client: FlaskClient
):
    lead = make_lead(status=S.CLOSED)
    response = post(staff_client, f"/staff/leads/{lead.id}/status", {"status": "new"})
    assert "could not be done" in staff_client.get(response.location).text
    assert reload(lead).status is S.CLOSED


# Defect 1: a duplicate's withdrawal link withdraws what the patient was told was shared.
def test_withdrawing_from_a_duplicates_confirmation_stops_the_first_inquirys_sharing(
    client: FlaskClient, two_clinics: tuple[Clinic, Clinic]
):
    first = routed_lead()
    second = routed_lead(created_at=NOW + timedelta(hours=1))
    assert second.status is S.DUPLICATE
    [_, confirmation] = emails("patient_confirmation")
    text = rendered(confirmation).text
    assert "Alpha" in text and "Bravo" in text
    link = path_of(re.search(r"https?://\S+/inquire/withdraw/\S+", text).group(0))

    submit(client, link, {})

    first = reload(first)
    assert first.status is S.WITHDRAWN and first.consent_withdrawn_at is not None
    assert all(a.revoked_at is not None for a in first.assignments)
    assert len(emails("clinic_consent_withdrawn")) == 2


# Defect 2: only a live lead can swallow a new inquiry.
@pytest.mark.parametrize("ending", [S.CLOSED, S.LOST, S.WITHDRAWN], ids=lambda s: s.value)
def test_asking_again_after_an_ended_inquiry_is_routed_not_a_duplicate(
    two_clinics: tuple[Clinic, Clinic], staff_user: StaffUser, ending: LeadStatus
):
    first = routed_lead()
    end(first, ending, staff_user)
    second = routed_lead(created_at=NOW + timedelta(days=2))
    assert second.status is S.ROUTED and second.duplicate_of_id is None
    assert {a.clinic.name for a in second.assignments} == {"Alpha", "Bravo"}


# Defect 3: leaving the active cycle takes the lead back from its clinics.
@pytest.mark.parametrize("ending", ENDINGS[:3], ids=lambda s: s.value)
def test_an_ended_lead_leaves_the_clinics_and_nothing_follows(
    client: FlaskClient,
    two_clinics: tuple[Clinic, Clinic],
    staff_user: StaffUser,
    ending: LeadStatus,
):
    lead = routed_lead()
    make_clinic("Charlie", capacity=50)  # free to take a place a silent clinic leaves
    for assignment in lead.assignments:
        assignment.sent_at = at(0)
    db.session.commit()
    alpha = make_clinic_user(two_clinics[0])

    end(lead, ending, staff_user)

    lead = reload(lead)
    assert all(a.revoked_at is not None for a in lead.assignments)
    assert check_deadlines(db.session, DEADLINES, at(100)) == (0, 0)
    assert [a.clinic.name for a in lead.assignments] == ["Alpha", "Bravo"]  # no re-route
    assert not lead.clinic_silent
    sign_in(client, alpha.email)
    assert lead.reference not in client.get("/portal/").text
    with pytest.raises(LookupError):
        answering.answer(db.session, lead.id, alpha.id, ClinicResponse.CONTACTED, max_clinics=3)
    assert emails("patient_clinic_answered") == []


def test_a_booked_lead_is_not_chased_or_offered_onwards(two_clinics: tuple[Clinic, Clinic]):
    lead = routed_lead()
    make_clinic("Charlie", capacity=50)
    for assignment in lead.assignments:
        assignment.sent_at = at(0)
    lead.status = S.BOOKED
    db.session.commit()
    assert check_deadlines(db.session, DEADLINES, at(100)) == (0, 0)
    assert emails("clinic_reminder") == []


# Defect 4 and its twin: back to new means routed for real.
def test_not_spam_routes_a_lead_that_was_already_processed(app: Flask, staff_user: StaffUser):
    lead = routed_lead()
    assert lead.no_matching_clinic and lead.processed_at is not None
    actions.change_status(db.session, [lead.id], staff_user.id, S.SPAM)
    make_clinic("Alpha")

    actions.mark_not_spam(db.session, lead.id, staff_user.id)
    process_lead(db.session, lead.id, PROCESSING, now=NOW + timedelta(hours=1))

    lead = reload(lead)
    assert lead.status is S.ROUTED and not lead.no_matching_clinic
    assert [a.clinic.name for a in lead.assignments] == ["Alpha"]
    assert len(emails("clinic_new_lead")) == 1
    # The patient hears again, now with the clinic it went to.
    _first, second = emails("patient_confirmation")
    assert "Alpha" in rendered(second).text


def test_undoing_a_duplicate_routes_it_and_it_is_not_marked_again(
    two_clinics: tuple[Clinic, Clinic], staff_user: StaffUser
):
    routed_lead()
    make_clinic("Charlie", capacity=50)
    second = routed_lead(created_at=NOW + timedelta(hours=1))
    assert second.status is S.DUPLICATE

    actions.change_status(db.session, [second.id], staff_user.id, S.NEW)
    process_lead(db.session, second.id, PROCESSING, now=NOW + timedelta(hours=2))

    second = reload(second)
    assert second.status is S.ROUTED and second.duplicate_of_id is None
    assert len(second.assignments) == 3


# Defect 6: staff can add only clinics routing itself could have chosen.
@pytest.mark.parametrize(
    "unfit",
    [
        {"status": ClinicStatus.PENDING},
        {"status": ClinicStatus.SUSPENDED},
        {"licence_expires": date(2026, 1, 1)},
        {"offers": "prp-knee"},
        {"capacity": 0},
    ],
    ids=["pending", "suspended", "lapsed", "other-procedure", "full"],
)
def test_staff_cannot_send_a_lead_to_a_clinic_that_does_not_fit(
    app: Flask, staff_user: StaffUser, unfit: dict[str, object]
):
    lead = routed_lead()
    clinic = make_clinic("Unfit", **unfit)  # type: ignore[arg-type]
    with pytest.raises(actions.ActionRefused, match="Unfit"):
        actions.reroute(db.session, lead.id, staff_user.id, [clinic.id])
    db.session.rollback()
    assert reload(lead).assignments == []
    assert emails("clinic_new_lead") == []


def test_staff_can_send_a_lead_to_a_clinic_that_fits(app: Flask, staff_user: StaffUser):
    lead = routed_lead()
    clinic = make_clinic("Fits")
    assert actions.reroute(db.session, lead.id, staff_user.id, [clinic.id]) == 1
    assert reload(lead).status is S.ROUTED


# Defect 7: a withdrawn lead is settled and reaches retention.
def test_a_withdrawn_lead_is_anonymised_when_its_time_comes(
    app: Flask, two_clinics: tuple[Clinic, Clinic]
):
    lead = routed_lead()
    withdraw_consent(db.session, lead.id)
    assert (
        anonymise_expired(db.session, 30, app.config["UPLOAD_DIR"], NOW + timedelta(days=400))[0]
        == 1
    )
    assert reload(lead).anonymised_at is not None


# Defect 12: a clinic that declined no longer sees the patient.
def test_a_clinic_that_declined_loses_the_patients_details(
    app: Flask, client: FlaskClient, two_clinics: tuple[Clinic, Clinic]
):
    lead = routed_lead(full_name="Dana Declinova")
    document = attach_pdf(lead, app.config["UPLOAD_DIR"])
    user = make_clinic_user(two_clinics[0])
    sign_in(client, user.email)
    assert "Dana Declinova" in client.get(f"/portal/leads/{lead.id}").text
    assert client.get(f"/portal/leads/{lead.id}/attachments/{document.id}").status_code == 200

    answering.answer(
        db.session, lead.id, user.id, ClinicResponse.DECLINED, max_clinics=3, reason="full"
    )

    assert "Dana Declinova" not in client.get(f"/portal/leads/{lead.id}").text
    assert client.get(f"/portal/leads/{lead.id}/attachments/{document.id}").status_code == 404
    inbox = client.get("/portal/").text
    assert lead.reference in inbox and f"/portal/leads/{lead.id}" not in inbox


# Defect 11: who exported names and emails is on record; "back" stays on this site.
def test_the_csv_export_is_audited(app: Flask, staff_client: FlaskClient, staff_user: StaffUser):
    make_lead()
    assert staff_client.get("/staff/leads.csv?status=new").status_code == 200
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "leads.exported"))
    assert event.actor_id == staff_user.id and event.changes["filters"]["status"] == "new"


@pytest.mark.parametrize("back", ["https://evil.example/", "//evil.example/x", "javascript:x"])
def test_the_bulk_action_returns_only_to_this_site(
    app: Flask, staff_client: FlaskClient, back: str
):
    lead = make_lead()
    response = post(
        staff_client, "/staff/leads/bulk", {"action": "spam", "lead": lead.id, "back": back}
    )
    assert response.status_code == 302 and "evil" not in response.location
    assert response.location.endswith("/staff/leads")


# Defect 13: what staff and clinics write about a patient is encrypted like the message.
def test_notes_quote_notes_and_reasons_are_encrypted_at_rest(
    app: Flask, settings: dict[str, str], two_clinics: tuple[Clinic, Clinic], staff_user
):
    lead = routed_lead()
    alpha, bravo = (make_clinic_user(c) for c in two_clinics)
    actions.add_note(db.session, lead.id, staff_user.id, "She mentioned diabetes.")
    answering.answer(
        db.session,
        lead.id,
        alpha.id,
        ClinicResponse.DECLINED,
        max_clinics=2,
        reason="Her HbA1c is too high for us.",
    )
    answering.answer(
        db.session,
        lead.id,
        bravo.id,
        ClinicResponse.QUOTED,
        max_clinics=2,
        quote=QuoteDetails(
            9000, 12000, "USD", "injection", 3, date(2027, 1, 1), note="Bring the insulin plan."
        ),
    )
    actions.change_status(
        db.session, [lead.id], staff_user.id, S.LOST, reason="Chemotherapy started."
    )

    path = settings["DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as raw:
        stored = [
            raw.execute(query).fetchone()[0]
            for query in (
                "SELECT body FROM lead_notes",
                "SELECT decline_reason FROM assignments WHERE decline_reason IS NOT NULL",
                "SELECT note FROM quotes",
                "SELECT lost_reason FROM leads",
            )
        ]
        audit = " ".join(row[0] for row in raw.execute("SELECT changes FROM audit_events"))
    for clear in ("diabetes", "HbA1c", "insulin", "Chemotherapy"):
        assert not any(clear in value for value in stored)
        assert clear not in audit
    lead = reload(lead)
    assert lead.lost_reason == "Chemotherapy started."
    assert db.session.scalar(select(LeadNote.body)) == "She mentioned diabetes."
    decline = db.session.scalar(select(Assignment).where(Assignment.decline_reason.is_not(None)))
    assert decline.decline_reason == "Her HbA1c is too high for us."


# A settled lead leaves the clinic's hands but not its record; a withdrawn one leaves both.
def test_closing_a_lead_keeps_the_clinics_answer_record_and_its_week_but_withdrawal_does_not(
    app: Flask, staff_user: StaffUser
):
    alpha = make_clinic("Alpha", capacity=50)
    user = make_clinic_user(alpha)
    closed, withdrawn = routed_lead(), routed_lead(email="other@example.com", phone="+77015550999")
    for lead in (closed, withdrawn):
        lead.assignments[0].sent_at = NOW
        db.session.commit()
        answering.answer(
            db.session, lead.id, user.id, ClinicResponse.CONTACTED, max_clinics=3, now=at(2)
        )

    def record() -> tuple[int, int]:
        routing.recount_loads(db.session, NOW + timedelta(days=1))
        db.session.commit()
        db.session.expire_all()
        stats = answer_stats(db.session, [alpha.id], CALENDAR, NOW - timedelta(days=1))
        return stats[alpha.id].answered, db.session.get(Clinic, alpha.id).week_leads

    assert record() == (2, 2)
    actions.change_status(db.session, [closed.id], staff_user.id, S.CLOSED)
    assert record() == (2, 2)
    withdraw_consent(db.session, withdrawn.id)
    assert record() == (1, 1)


def test_a_settled_leads_confirmation_is_not_resent(app: Flask, staff_user: StaffUser):
    make_clinic("Alpha")
    lead = routed_lead()
    actions.change_status(db.session, [lead.id], staff_user.id, S.CLOSED)
    with pytest.raises(actions.ActionRefused, match="closed"):
        actions.resend_confirmation(db.session, lead.id, staff_user.id)
    assert len(emails("patient_confirmation")) == 1


def test_anonymising_destroys_what_clinics_wrote_about_the_patient(
    app: Flask, staff_user: StaffUser
):
    alpha, bravo = make_clinic("Alpha", capacity=50), make_clinic("Bravo", capacity=50)
    lead = routed_lead()
    users = [make_clinic_user(alpha), make_clinic_user(bravo)]
    answering.answer(
        db.session, lead.id, users[0].id, ClinicResponse.DECLINED, max_clinics=2, reason="HbA1c"
    )
    answering.answer(
        db.session,
        lead.id,
        users[1].id,
        ClinicResponse.QUOTED,
        max_clinics=2,
        quote=QuoteDetails(9000, 12000, "USD", "injection", 3, date(2027, 1, 1), note="insulin"),
    )
    actions.change_status(db.session, [lead.id], staff_user.id, S.LOST, reason="went home")

    assert anonymise_expired(db.session, 30, app.config["UPLOAD_DIR"], NOW + timedelta(days=400))
    lead = reload(lead)
    assert [a.decline_reason for a in lead.assignments] == [None, None]
    assert lead.assignments[1].quote.note == "" and lead.assignments[1].response is not None


def test_a_settled_lead_leaves_the_lists_of_leads_waiting_on_staff(
    app: Flask, staff_client: FlaskClient, staff_user: StaffUser
):
    lead = routed_lead()
    assert lead.no_matching_clinic
    assert lead.reference in staff_client.get("/staff/leads?flag=no_match").text
    actions.change_status(db.session, [lead.id], staff_user.id, S.LOST, reason="found a clinic")
    assert lead.reference not in staff_client.get("/staff/leads?flag=no_match").text
