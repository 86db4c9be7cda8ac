"""Clinic answer deadlines on an injected clock: one reminder, then the next clinic."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.models import Assignment, AuditEvent, Lead, LeadStatus, OutboundEmail
from app.models.base import utcnow
from app.services.answers.deadlines import check_deadlines
from app.services.leads.processing import ProcessingPolicy, process_lead
from app.services.mail.delivery import deliver
from app.services.privacy.consent import withdraw_consent
from tests.support.clock import CALENDAR, FRIDAY_NIGHT, SEOUL, at
from tests.support.factories import make_clinic, make_clinic_user, make_lead
from tests.support.policies import DEADLINES, DELIVERY
from tests.support.portal import sign_in
from tests.support.smtp_server import SmtpServer, settings_for


def emails(template: str) -> list[OutboundEmail]:
    return list(db.session.scalars(select(OutboundEmail).where(OutboundEmail.template == template)))


@pytest.fixture
def sent_lead(app: Flask) -> Lead:
    """A lead routed to Alpha only (one clinic per lead), its notice sent on Friday night."""
    make_clinic("Alpha", capacity=50)
    lead = make_lead(created_at=FRIDAY_NIGHT)
    process_lead(db.session, lead.id, ProcessingPolicy(max_clinics=1), now=FRIDAY_NIGHT)
    make_clinic("Bravo", capacity=50)  # approved later: the next best clinic
    [assignment] = lead.assignments
    assignment.sent_at = FRIDAY_NIGHT
    db.session.commit()
    return lead


def test_the_clock_starts_when_the_mail_server_accepts_the_notice(
    app: Flask, smtp_server: SmtpServer
):
    make_clinic("Alpha")
    lead = make_lead()
    process_lead(db.session, lead.id, ProcessingPolicy(max_clinics=1))
    [assignment] = lead.assignments
    assert assignment.sent_at is None  # queued, not sent

    [notice] = emails("clinic_new_lead")
    deliver(db.session, notice.id, settings_for(smtp_server.url), DELIVERY)

    db.session.expire_all()
    assert db.session.get(Assignment, assignment.id).sent_at == notice.sent_at


def test_nothing_happens_over_the_weekend(sent_lead: Lead):
    sunday = datetime(2026, 11, 22, 23, 0, tzinfo=SEOUL)
    assert check_deadlines(db.session, DEADLINES, sunday) == (0, 0)
    assert not emails("clinic_reminder")


def test_one_reminder_after_24_business_hours_however_often_the_check_runs(sent_lead: Lead):
    assert check_deadlines(db.session, DEADLINES, at(24) - timedelta(minutes=1)) == (0, 0)
    assert check_deadlines(db.session, DEADLINES, at(24)) == (1, 0)
    for hours in (25, 30, 47):
        assert check_deadlines(db.session, DEADLINES, at(hours)) == (0, 0)

    [reminder] = emails("clinic_reminder")
    assert reminder.recipient == sent_lead.assignments[0].clinic.email
    assert at(24).weekday() == 2  # Wednesday: the weekend did not count


def test_after_48_business_hours_the_lead_goes_to_the_next_clinic_once(sent_lead: Lead):
    check_deadlines(db.session, DEADLINES, at(24))
    assert check_deadlines(db.session, DEADLINES, at(48)) == (0, 1)
    assert check_deadlines(db.session, DEADLINES, at(60)) == (0, 0)

    db.session.expire_all()
    lead = db.session.get(Lead, sent_lead.id)
    first, second = lead.assignments
    assert first.clinic.name == "Alpha" and first.expired_at == at(48)
    assert second.clinic.name == "Bravo" and second.expired_at is None
    assert lead.clinic_silent is True and lead.status is LeadStatus.ROUTED
    # The next clinic is named to the patient first and hears of the lead once they agree.
    assert second.awaiting_consent
    assert [e.recipient for e in emails("clinic_new_lead")] == [first.clinic.email]
    [ask] = emails("patient_consent_request")
    assert ask.recipient == lead.email and ask.context["assignment_id"] == second.id
    [event] = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "assignment.expired")
    )
    assert event.changes == {"clinic_id": first.clinic_id, "offered_to": [second.clinic_id]}


def test_a_lead_past_both_limits_moves_on_without_a_late_reminder(sent_lead: Lead):
    assert check_deadlines(db.session, DEADLINES, at(50)) == (0, 1)
    assert not emails("clinic_reminder")


def test_with_no_clinic_left_staff_see_the_lead_at_once(app: Flask):
    make_clinic("Alpha")
    lead = make_lead(created_at=FRIDAY_NIGHT)
    process_lead(db.session, lead.id, ProcessingPolicy(max_clinics=1), now=FRIDAY_NIGHT)
    lead.assignments[0].sent_at = FRIDAY_NIGHT
    db.session.commit()

    check_deadlines(db.session, DEADLINES, at(48))

    db.session.expire_all()
    lead = db.session.get(Lead, lead.id)
    assert lead.no_matching_clinic is True and lead.clinic_silent is True


def test_answered_and_withdrawn_leads_are_never_chased(sent_lead: Lead, app: Flask):
    other = make_lead(email="other@example.com", phone="+77015550202", created_at=FRIDAY_NIGHT)
    process_lead(db.session, other.id, ProcessingPolicy(max_clinics=1), now=FRIDAY_NIGHT)
    other.assignments[0].sent_at = FRIDAY_NIGHT
    sent_lead.assignments[0].responded_at = at(3)
    db.session.commit()
    withdraw_consent(db.session, other.id)

    assert check_deadlines(db.session, DEADLINES, at(100)) == (0, 0)
    assert not emails("clinic_reminder")


def test_staff_find_the_lead_whose_clinic_went_silent(sent_lead: Lead, staff_client: FlaskClient):
    check_deadlines(db.session, DEADLINES, at(48))

    listed = staff_client.get("/staff/leads?flag=clinic_silent").get_data(as_text=True)
    detail = staff_client.get(f"/staff/leads/{sent_lead.id}").get_data(as_text=True)

    assert sent_lead.reference in listed
    assert "silent past its deadline" in detail


def test_answer_time_and_rate_are_shown_to_staff_and_to_the_clinic(
    app: Flask, staff_client: FlaskClient
):
    alpha = make_clinic("Alpha", capacity=50)
    for n, (answered_after, expired) in enumerate([(3, False), (5, False), (None, True)]):
        lead = make_lead(email=f"p{n}@example.com", phone=f"+7701555000{n}")
        db.session.add(
            Assignment(
                lead=lead,
                clinic=alpha,
                rank=1,
                sent_at=utcnow() - timedelta(days=20),
                responded_at=None
                if answered_after is None
                else CALENDAR.add_hours(utcnow() - timedelta(days=20), answered_after),
                expired_at=utcnow() if expired else None,
            )
        )
    db.session.commit()
    clinic_client = sign_in(app.test_client(), make_clinic_user(alpha).email)

    expected = "Answers 2 of 3 leads (67%); median answer time 4.0 business hours."
    assert expected in staff_client.get(f"/staff/clinics/{alpha.id}").get_data(as_text=True)
    assert expected in clinic_client.get("/portal/").get_data(as_text=True)


def shown_answer_time(html: str, label: str) -> tuple[str, str]:
    """The figure and its unit printed after `label` (tags between them ignored)."""
    text = re.sub(r"<[^>]+>", "", html)
    match = re.search(rf"{label}\s*([\d.]+) ([a-z ]*hours)", text)
    assert match, f"no answer time after {label!r}"
    return match.group(1), match.group(2)


def test_the_dashboard_shows_a_clinics_answer_time_in_business_hours_as_its_stats_do(
    app: Flask, staff_client: FlaskClient
):
    """Sent on a Friday evening, answered at 10:30 on the next working morning in Seoul."""
    day = (utcnow() - timedelta(days=7)).astimezone(SEOUL).date()
    friday_evening = datetime.combine(
        day - timedelta(days=(day.weekday() - 4) % 7), time(21, 0), tzinfo=SEOUL
    )
    alpha = make_clinic("Alpha", capacity=50)
    lead = make_lead(created_at=friday_evening - timedelta(hours=4))
    db.session.add(
        Assignment(
            lead=lead,
            clinic=alpha,
            rank=1,
            sent_at=friday_evening,
            responded_at=CALENDAR.add_hours(friday_evening, 1.5),
        )
    )
    db.session.commit()

    stats = shown_answer_time(
        staff_client.get(f"/staff/clinics/{alpha.id}").text, "median answer time"
    )
    dashboard = shown_answer_time(staff_client.get("/staff/dashboard").text, "Median[^:]*:")

    assert stats == dashboard == ("1.5", "business hours")
