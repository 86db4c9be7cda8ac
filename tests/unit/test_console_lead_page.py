"""The staff console's lead page: everything on one screen in a fixed number of queries,
staff writing to the patient (one message, one email, even on a double submit), and staff's
first-response clock in business hours."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import pytest
from flask import Flask, render_template_string
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.models import (
    AuditEvent,
    EmailStatus,
    Lead,
    LeadStatus,
    OutboundEmail,
    PrivacyRequest,
    StaffMessage,
)
from app.models.base import utcnow
from app.services import audit
from app.services.conversations import threads
from app.services.leads import lifecycle
from app.services.leads.response_clock import ClockState, clock_of, staff_due_at
from app.services.privacy.patient_links import privacy_token, status_token
from app.services.privacy.retention import anonymise
from tests.support.checks import statements_run
from tests.support.clock import CALENDAR, SEOUL
from tests.support.emails import rendered
from tests.support.factories import (
    add_note,
    add_quote,
    make_clinic,
    make_lead,
    routed_lead,
    send_inquiry,
)
from tests.support.forms import post, submit

SECRET = "Your MRI shows a small tear; the clinic will explain"
# A Friday afternoon in Seoul: two business hours are left of the day.
FRIDAY_AFTERNOON = datetime(2026, 11, 20, 16, 0, tzinfo=SEOUL)
MONDAY_ELEVEN = datetime(2026, 11, 23, 11, 0, tzinfo=SEOUL)


def page_of(lead: Lead) -> str:
    return f"/staff/leads/{lead.id}"


def refs(client: FlaskClient, query: str) -> set[str]:
    html = client.get(f"/staff/leads?{query}").text
    return {lead.reference for lead in db.session.scalars(select(Lead)) if lead.reference in html}


# --- the first-response clock ----------------------------------------------------------------


def test_a_lead_received_on_friday_afternoon_is_due_on_monday(app: Flask):
    assert staff_due_at(FRIDAY_AFTERNOON, app.config) == MONDAY_ELEVEN


@pytest.mark.parametrize(
    ("now", "state", "hours"),
    [
        # Over the weekend the clock stands still: Monday's two hours are left all along.
        (datetime(2026, 11, 21, 12, 0, tzinfo=SEOUL), ClockState.RUNNING, 2),
        (datetime(2026, 11, 23, 9, 0, tzinfo=SEOUL), ClockState.RUNNING, 2),
        (datetime(2026, 11, 23, 13, 30, tzinfo=SEOUL), ClockState.OVERDUE, 2.5),
    ],
)
def test_the_clock_counts_business_hours_across_a_weekend(
    app: Flask, now: datetime, state: ClockState, hours: float
):
    lead = make_lead(created_at=FRIDAY_AFTERNOON, staff_due_at=MONDAY_ELEVEN)

    clock = clock_of(lead, now, CALENDAR)

    assert clock is not None
    assert (clock.state, clock.business_time) == (state, timedelta(hours=hours))


def test_a_settled_lead_is_never_overdue_and_an_answered_one_stops_the_clock(app: Flask):
    late = datetime(2026, 11, 30, 12, 0, tzinfo=SEOUL)
    spam = make_lead(status=LeadStatus.SPAM, staff_due_at=MONDAY_ELEVEN)
    answered = make_lead(staff_due_at=MONDAY_ELEVEN, staff_responded_at=FRIDAY_AFTERNOON)

    assert clock_of(spam, late, CALENDAR).state is ClockState.SETTLED  # type: ignore[union-attr]
    assert clock_of(answered, late, CALENDAR).state is ClockState.ANSWERED  # type: ignore[union-attr]


def test_a_lead_taken_back_from_spam_starts_staffs_clock_again(app: Flask):
    spam = make_lead(status=LeadStatus.SPAM, staff_due_at=MONDAY_ELEVEN)
    reopened_at = datetime(2026, 11, 30, 12, 0, tzinfo=SEOUL)

    lifecycle.move(db.session, spam, LeadStatus.NEW, audit.Actor.system("test"), now=reopened_at)

    assert spam.staff_due_at == staff_due_at(reopened_at, app.config)
    assert clock_of(spam, reopened_at, CALENDAR).state is ClockState.RUNNING  # type: ignore[union-attr]


def test_an_inquiry_is_stored_with_its_due_time(app: Flask):
    lead = send_inquiry(app)

    assert lead.staff_due_at == staff_due_at(lead.created_at, app.config)
    assert lead.staff_responded_at is None


def test_the_overdue_filter_lists_only_open_unanswered_leads_past_their_time(
    staff_client: FlaskClient,
):
    now = utcnow()
    overdue = make_lead(
        email="late@example.com", staff_due_at=datetime(2026, 11, 2, 9, 0, tzinfo=SEOUL)
    )
    make_lead(email="early@example.com", staff_due_at=now + timedelta(days=1))
    make_lead(
        email="answered@example.com",
        staff_due_at=now - timedelta(hours=1),
        staff_responded_at=now - timedelta(hours=2),
    )
    make_lead(
        email="spam@example.com", staff_due_at=now - timedelta(hours=1), status=LeadStatus.SPAM
    )
    make_lead(email="before-the-clock@example.com")

    assert refs(staff_client, "flag=overdue") == {overdue.reference}
    assert "overdue since 2026-11-02 09:00" in staff_client.get(page_of(overdue)).text


@pytest.mark.parametrize(
    ("now", "words"),
    [
        (datetime(2026, 11, 21, 12, 0, tzinfo=SEOUL), "2 hours left"),
        (datetime(2026, 11, 23, 10, 30, tzinfo=SEOUL), "30 minutes left"),
        (datetime(2026, 11, 23, 14, 0, tzinfo=SEOUL), "overdue by 3 hours"),
        # Past due at Friday's closing time, and not a business minute has gone by since.
        (datetime(2026, 11, 28, 12, 0, tzinfo=SEOUL), "overdue since 2026-11-27 18:00"),
    ],
)
def test_the_clock_macro_says_time_left_or_how_late(app: Flask, now: datetime, words: str):
    due = MONDAY_ELEVEN if now.day < 24 else datetime(2026, 11, 27, 18, 0, tzinfo=SEOUL)
    lead = make_lead(created_at=FRIDAY_AFTERNOON, staff_due_at=due)
    with app.test_request_context():
        html = render_template_string(
            '{% from "macros/response_clock.html" import response_clock %}'
            "{{ response_clock(lead, now) }}",
            lead=lead,
            now=now,
        )

    assert words in html


# --- the page ----------------------------------------------------------------------------------


def busy_lead(clinics: int, tag: str) -> Lead:
    """Routed to `clinics` clinics, each with a quote and a message from the patient."""
    for n in range(clinics):
        make_clinic(f"{tag} Clinic {n}")
    lead = routed_lead(email=f"{tag.lower()}@example.com", phone=f"+7701555{clinics:04d}")
    for assignment in lead.assignments:
        add_quote(assignment, price_min=9000 + assignment.rank * 1000)
        threads.from_patient(db.session, lead.id, assignment.id, "Is the MRI included?")
    return lead


def test_the_page_costs_the_same_queries_for_one_clinic_as_for_three(
    staff_client: FlaskClient, app: Flask
):
    one, three = busy_lead(1, "Solo"), busy_lead(3, "Trio")
    assert len(three.assignments) == 3
    pages = page_of(one), page_of(three)
    staff_client.get(pages[0])  # the first request warms what every request shares

    with statements_run() as for_one:
        assert staff_client.get(pages[0]).status_code == 200
    with statements_run() as for_three:
        assert staff_client.get(pages[1]).status_code == 200

    assert len(for_three) == len(for_one)


def test_the_page_shows_why_each_clinic_its_quote_notes_with_author_and_email_states(
    staff_client: FlaskClient, staff_user
):  # type: ignore[no-untyped-def]
    make_clinic("Alpha", languages=("ko", "ru"))
    make_clinic("Bravo")
    lead = routed_lead()
    for assignment in lead.assignments:
        add_quote(assignment, price_min=9000 + assignment.rank * 1000, price_max=20000)
    add_note(lead, staff_user.id, "Called the patient")
    failed = db.session.scalar(select(OutboundEmail).where(OutboundEmail.lead_id == lead.id))
    failed.status, failed.last_error = EmailStatus.FAILED, "550 mailbox unavailable"
    db.session.commit()

    html = staff_client.get(page_of(lead)).text

    assert "speaks the patient's language" in html
    assert "does not speak the patient's language" in html
    assert html.count('<th scope="col">') == 2  # the quotes, one column per clinic
    assert "$10,000" in html and "$11,000" in html
    assert re.search(r"triager@careroute\.test</span><br><span class=\"message\">Called", html)
    assert "failed" in html and "550 mailbox unavailable" in html


# --- staff writing to the patient --------------------------------------------------------------


def test_a_snippet_link_fills_the_message_with_the_patients_name_and_reference(
    staff_client: FlaskClient,
):
    lead = make_lead(full_name="Dana Testova", language="en")

    html = staff_client.get(f"{page_of(lead)}?snippet=send_mri").text

    textarea = re.search(r"<textarea[^>]*name=\"body\"[^>]*>(.*?)</textarea>", html, re.S)
    assert textarea is not None
    assert "Dear Dana Testova" in textarea.group(1) and "MRI" in textarea.group(1)
    assert f'href="/staff/leads/{lead.id}?snippet=received#message"' in html


def send(client: FlaskClient, lead: Lead, body: str, submission_id: str):  # type: ignore[no-untyped-def]
    return post(
        client,
        f"/staff/leads/{lead.id}/messages",
        {"body": body, "submission_id": submission_id},
        page=page_of(lead),
    )


def test_a_message_sent_twice_is_one_message_and_one_email_and_stops_the_clock(
    staff_client: FlaskClient, client: FlaskClient
):
    lead = make_lead(language="en", staff_due_at=utcnow() + timedelta(hours=2))

    first = send(staff_client, lead, SECRET, "form-1")
    again = send(staff_client, lead, SECRET, "form-1")

    assert first.status_code == again.status_code == 302
    assert db.session.scalars(select(StaffMessage.body)).all() == [SECRET]
    emails = db.session.scalars(select(OutboundEmail)).all()
    assert [(e.template, e.recipient) for e in emails] == [("patient_staff_message", lead.email)]
    message = rendered(emails[0])
    for part in (message.subject, message.text, message.html):
        assert SECRET not in part
    assert f"/inquire/status/{status_token(lead)}" in message.text
    db.session.expire_all()
    assert db.session.get(Lead, lead.id).staff_responded_at is not None
    staff_page = staff_client.get(page_of(lead)).text
    assert SECRET in staff_page and "answered" in staff_page
    # Who wrote, never what.
    event_ = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "lead.staff_message_sent")
    )
    assert event_.actor_label == "triager@careroute.test" and SECRET not in str(event_.changes)
    assert SECRET in client.get(f"/inquire/status/{status_token(lead)}").text


def test_a_second_message_is_emailed_too_but_the_clock_keeps_the_first_answer(
    staff_client: FlaskClient,
):
    lead = make_lead(language="en", staff_due_at=utcnow() + timedelta(hours=2))
    send(staff_client, lead, "First", "form-1")
    db.session.expire_all()
    first_answer = db.session.get(Lead, lead.id).staff_responded_at

    send(staff_client, lead, "Second", "form-2")

    db.session.expire_all()
    assert db.session.get(Lead, lead.id).staff_responded_at == first_answer
    assert len(db.session.scalars(select(OutboundEmail)).all()) == 2


def test_an_empty_message_comes_back_with_its_error_and_sends_nothing(
    staff_client: FlaskClient,
):
    lead = make_lead()

    response = send(staff_client, lead, "   ", "form-1")

    assert response.status_code == 422
    assert 'class="error" id="body-error"' in response.text
    assert db.session.scalars(select(StaffMessage)).all() == []
    assert db.session.scalars(select(OutboundEmail)).all() == []


def test_an_erased_patient_cannot_be_written_to(staff_client: FlaskClient):
    lead = make_lead(anonymised_at=utcnow(), email="", full_name="")

    response = send(staff_client, lead, "Hello", "form-1")

    assert response.status_code == 422
    assert db.session.scalars(select(StaffMessage)).all() == []


def test_erasing_a_lead_erases_staffs_messages_to_the_patient(staff_client: FlaskClient):
    lead = make_lead(language="en", status=LeadStatus.CLOSED)
    send(staff_client, lead, SECRET, "form-1")

    db.session.expire_all()
    anonymise(db.session, db.session.get(Lead, lead.id), utcnow(), erased_by=None)
    db.session.commit()

    assert db.session.scalars(select(StaffMessage)).all() == []


def test_the_patients_copy_of_their_data_holds_staffs_messages(
    app: Flask, staff_client: FlaskClient
):
    lead = make_lead(language="en")
    send(staff_client, lead, SECRET, "form-1")
    submit(app.test_client(), f"/inquire/privacy/{privacy_token(lead)}", {"kind": "export"})
    request = db.session.scalar(select(PrivacyRequest))

    response = submit(
        staff_client, "/staff/privacy", {}, action=f"/staff/privacy/{request.id}/export"
    )

    [record] = json.loads(response.data)["leads"]
    assert [m["text"] for m in record["messages_from_careroute"]] == [SECRET]
