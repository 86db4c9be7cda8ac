"""Deadlines on the real stack, the clock moved forward: a reminder once, a re-route once and
the patient's email once, with beat ticks racing in the worker and beside it."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.models import Assignment, AuditEvent, EmailStatus, Lead, LeadStatus, OutboundEmail
from app.services.answers.business_hours import DeadlinePolicy
from app.services.answers.deadlines import check_deadlines
from app.services.privacy.patient_links import status_token
from app.task_queue import celery_publisher
from tests.support.data import inquiry
from tests.support.factories import make_clinic, make_clinic_user
from tests.support.forms import csrf_token, submit
from tests.support.portal import sign_in
from tests.support.smtp_server import SmtpServer
from tests.support.stack import WorkerProcess, wait_until

pytestmark = pytest.mark.integration


def subjects(smtp_server: SmtpServer) -> Counter[str]:
    kinds = {
        "We have your question": "confirmation",
        "New patient inquiry": "notice",
        "Reminder:": "reminder",
        "will contact you": "patient answered",
        "May we share your question": "consent request",
    }
    return Counter(
        next(kind for key, kind in kinds.items() if key in str(m["Subject"]))
        for m in smtp_server.messages
    )


def all_mail_sent() -> bool:
    db.session.expire_all()
    return not db.session.scalars(
        select(OutboundEmail).where(OutboundEmail.status != EmailStatus.SENT)
    ).all()


def succeeded(worker: WorkerProcess, task: str) -> int:
    return sum(
        1 for line in worker.log().splitlines() if f"Task {task}[" in line and "succeeded" in line
    )


def tick_four_times_at_once(app: Flask, worker: WorkerProcess, now: datetime) -> None:
    """Two beat ticks land in the worker (two processes) while two more run right here."""
    done_before = succeeded(worker, "deadlines.check")
    with celery_publisher(app.extensions["celery"]) as publish:
        publish("deadlines.check", [now.isoformat()])
        publish("deadlines.check", [now.isoformat()])
    policy = DeadlinePolicy.from_config(app.config)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def tick() -> None:
        with app.app_context():
            try:
                barrier.wait()
                check_deadlines(db.session, policy, now)
            except BaseException as exc:  # surfaced below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=tick) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    wait_until(
        lambda: succeeded(worker, "deadlines.check") == done_before + 2,
        message="both deadline checks in the worker",
    )


def test_reminder_reroute_and_patient_email_each_happen_once(
    stack_app: Flask, worker: WorkerProcess, relay_thread: None, smtp_server: SmtpServer
):
    alpha, bravo = make_clinic("Alpha"), make_clinic("Bravo")
    client = stack_app.test_client()
    # In English, so the subjects below read as the test names them.
    assert submit(client, "/inquire", inquiry(language="en")).status_code == 302
    smtp_server.wait_for(3)  # the confirmation and two notices
    wait_until(all_mail_sent, message="the notices marked sent")
    lead = db.session.scalar(select(Lead))
    sent = max(a.sent_at for a in lead.assignments)
    charlie = make_clinic("Charlie")  # approved after routing: the next best clinic
    calendar = DeadlinePolicy.from_config(stack_app.config).calendar

    tick_four_times_at_once(stack_app, worker, calendar.add_hours(sent, 24.5))
    wait_until(all_mail_sent, message="reminders sent")
    assert subjects(smtp_server) == {"confirmation": 1, "notice": 2, "reminder": 2}

    tick_four_times_at_once(stack_app, worker, calendar.add_hours(sent, 48.5))
    wait_until(all_mail_sent, message="the patient asked about the next clinic")
    assert subjects(smtp_server) == {
        "confirmation": 1,
        "notice": 2,
        "reminder": 2,
        "consent request": 1,
    }
    db.session.expire_all()
    assignments = db.session.scalars(select(Assignment).order_by(Assignment.id)).all()
    assert [(a.clinic_id, a.expired_at is not None) for a in assignments] == [
        (alpha.id, True),
        (bravo.id, True),
        (charlie.id, False),
    ]
    expired = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "assignment.expired")
    ).all()
    assert len(expired) == 2
    # The patient agrees on their page: only now does Charlie hear of the lead.
    own_page = f"/inquire/status/{status_token(lead)}"
    agreed = submit(client, own_page, {}, action=f"{own_page}/clinics/{assignments[2].id}/agree")
    assert agreed.status_code == 302
    wait_until(all_mail_sent, message="the next clinic's notice sent")
    assert subjects(smtp_server)["notice"] == 3

    make_clinic_user(charlie)
    first, second = (sign_in(stack_app.test_client(), charlie.email) for _ in range(2))
    page = f"/portal/leads/{lead.id}"
    barrier = threading.Barrier(2)
    codes: list[int] = []

    def answer(portal: FlaskClient) -> None:
        token = csrf_token(portal, page)
        barrier.wait()
        codes.append(portal.post(f"{page}/contacted", data={"csrf_token": token}).status_code)

    threads = [threading.Thread(target=answer, args=(c,)) for c in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert codes == [302, 302]
    wait_until(all_mail_sent, message="the patient's email sent")
    assert subjects(smtp_server) == {
        "confirmation": 1,
        "notice": 3,
        "reminder": 2,
        "consent request": 1,
        "patient answered": 1,
    }
    db.session.expire_all()
    assert db.session.get(Lead, lead.id).status is LeadStatus.CONTACTED
    [told] = [m for m in smtp_server.messages if "will contact you" in str(m["Subject"])]
    assert str(told["To"]) == "aigerim.testova@example.com"
    assert "Charlie" in str(told["Subject"])
