"""Sending outbox emails against a real SMTP server on loopback."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import EmailStatus, Lead, OutboundEmail, OutboxMessage
from app.models.base import utcnow
from app.services.leads.processing import process_lead
from app.services.mail import messages, smtp
from app.services.mail.delivery import (
    Delivery,
    Outcome,
    Outgoing,
    deliver,
    queue_email,
    send_outgoing,
)
from app.services.outbox import sweep
from app.task_names import SEND_EMAIL
from tests.support.broker import CollectingPublisher
from tests.support.clock import NOW
from tests.support.data import SECOND_BRN, clinic_application
from tests.support.factories import make_clinic, make_lead, routed_lead
from tests.support.forms import submit
from tests.support.policies import DELIVERY, PROCESSING
from tests.support.smtp_server import SilentServer, SmtpServer, settings_for


@pytest.fixture
def queued_email(app: Flask) -> OutboundEmail:
    submit(app.test_client(), "/clinics/join", clinic_application())
    return db.session.scalar(select(OutboundEmail).order_by(OutboundEmail.id))


def test_email_is_sent_multipart_dated_with_a_stable_message_id(
    queued_email: OutboundEmail, smtp_server: SmtpServer
):
    before = datetime.now(UTC).replace(microsecond=0)
    result = deliver(db.session, queued_email.id, settings_for(smtp_server.url), DELIVERY)

    assert result.outcome is Outcome.SENT
    [message] = smtp_server.wait_for(1)
    assert message["To"] == "apply@bukhansan-test.example.com"
    assert message["Message-ID"] == f"<careroute-email-{queued_email.id}@careroute.test>"
    assert before <= parsedate_to_datetime(message["Date"]) <= datetime.now(UTC)
    assert message.get_body(("plain",)) is not None and message.get_body(("html",)) is not None
    assert "/clinics/verify/" in message.get_body(("plain",)).get_content()
    db.session.refresh(queued_email)
    assert queued_email.status is EmailStatus.SENT and queued_email.attempts == 1


def second_email(app: Flask) -> OutboundEmail:
    address = "apply@second.example.com"
    application = clinic_application(email=address, registration_number=SECOND_BRN)
    submit(app.test_client(), "/clinics/join", application)
    return db.session.scalar(select(OutboundEmail).where(OutboundEmail.recipient == address))


def test_emails_in_a_row_share_one_connection(
    app: Flask, queued_email: OutboundEmail, smtp_server: SmtpServer
):
    settings = settings_for(smtp_server.url)
    first = deliver(db.session, queued_email.id, settings, DELIVERY)
    second = deliver(db.session, second_email(app).id, settings, DELIVERY)

    assert first.outcome is second.outcome is Outcome.SENT
    assert len(smtp_server.wait_for(2)) == 2
    assert smtp_server.handler.greetings == 1


def test_a_kept_connection_the_server_dropped_is_replaced_without_a_retry(
    app: Flask, queued_email: OutboundEmail, smtp_server: SmtpServer
):
    settings = settings_for(smtp_server.url)
    deliver(db.session, queued_email.id, settings, DELIVERY)
    smtp_server.stop()  # closes the connection the sender kept
    restarted = SmtpServer(port=smtp_server.port).start()
    try:
        email = second_email(app)
        result = deliver(db.session, email.id, settings, DELIVERY)
        [message] = restarted.wait_for(1)
    finally:
        restarted.stop()

    assert result.outcome is Outcome.SENT
    assert message["To"] == "apply@second.example.com"
    db.session.refresh(email)
    assert email.attempts == 1


def test_a_sent_email_is_not_sent_again(queued_email: OutboundEmail, smtp_server: SmtpServer):
    deliver(db.session, queued_email.id, settings_for(smtp_server.url), DELIVERY)
    again = deliver(db.session, queued_email.id, settings_for(smtp_server.url), DELIVERY)

    assert again.outcome is Outcome.SKIPPED
    time.sleep(0.2)
    assert len(smtp_server.messages) == 1


def test_451_is_retried_with_backoff_then_delivered_once(
    queued_email: OutboundEmail, smtp_server: SmtpServer
):
    smtp_server.handler.replies.extend(["451 4.3.0 Try again later"] * 2)
    outcomes = []
    for _ in range(3):
        result = deliver(db.session, queued_email.id, settings_for(smtp_server.url), DELIVERY)
        outcomes.append((result.outcome, result.retry_in))

    assert outcomes == [(Outcome.RETRY, 0.1), (Outcome.RETRY, 0.2), (Outcome.SENT, None)]
    assert len(smtp_server.wait_for(1)) == 1
    db.session.refresh(queued_email)
    assert queued_email.status is EmailStatus.SENT and queued_email.attempts == 3


def test_550_fails_at_once_without_retry(queued_email: OutboundEmail, smtp_server: SmtpServer):
    smtp_server.handler.replies.append("550 5.1.1 No such user")

    result = deliver(db.session, queued_email.id, settings_for(smtp_server.url), DELIVERY)

    assert result.outcome is Outcome.FAILED
    db.session.refresh(queued_email)
    assert queued_email.status is EmailStatus.FAILED
    assert "550" in queued_email.last_error
    assert (
        deliver(db.session, queued_email.id, settings_for(smtp_server.url), DELIVERY).outcome
        is Outcome.SKIPPED
    )
    assert smtp_server.handler.attempts == 1


def test_transient_failures_stop_after_the_attempt_limit(
    queued_email: OutboundEmail, smtp_server: SmtpServer
):
    smtp_server.handler.replies.extend(["451 4.3.0 Busy"] * 10)
    results = [
        deliver(db.session, queued_email.id, settings_for(smtp_server.url), DELIVERY).outcome
        for _ in range(4)
    ]

    assert results == [Outcome.RETRY, Outcome.RETRY, Outcome.FAILED, Outcome.SKIPPED]
    db.session.refresh(queued_email)
    assert queued_email.status is EmailStatus.FAILED and queued_email.attempts == 3


def test_a_server_that_never_answers_times_out_as_transient(queued_email: OutboundEmail):
    silent = SilentServer()
    started = time.monotonic()
    try:
        result = deliver(
            db.session, queued_email.id, settings_for(silent.url, timeout=0.5), DELIVERY
        )
    finally:
        silent.close()

    assert result.outcome is Outcome.RETRY
    assert time.monotonic() - started < 5
    db.session.refresh(queued_email)
    assert "timed out" in queued_email.last_error.lower()


def test_a_leased_email_is_left_to_the_worker_holding_it(
    queued_email: OutboundEmail, smtp_server: SmtpServer
):
    queued_email.status = EmailStatus.SENDING
    queued_email.lease_until = queued_email.created_at.replace(year=2999)
    db.session.commit()

    result = deliver(db.session, queued_email.id, settings_for(smtp_server.url), DELIVERY)

    assert result.outcome is Outcome.SKIPPED
    assert smtp_server.messages == []


@pytest.mark.parametrize(
    "field",
    ["recipient", "sender"],
)
def test_a_line_break_in_a_header_value_never_adds_a_recipient(field: str):
    values = {
        "sender": "CareRoute <no-reply@careroute.test>",
        "recipient": "patient@example.com",
        field: "x@example.com\r\nBcc: victim@example.com",
    }
    with pytest.raises(smtp.HeaderInjection):
        smtp.build_message(
            subject="Hello", text="t", html="<p>t</p>", message_id="<1@careroute.test>", **values
        )


def test_a_line_break_in_a_subject_is_refused():
    with pytest.raises(smtp.HeaderInjection):
        smtp.build_message(
            sender="a@careroute.test",
            recipient="b@example.com",
            subject="Hi\nBcc: victim@example.com",
            text="t",
            html="t",
            message_id="<1@careroute.test>",
        )


def test_queue_email_is_idempotent_per_key(app: Flask):
    for _ in range(2):
        queue_email(
            db.session,
            key="same-cause",
            recipient="a@example.com",
            template="clinic_verify",
            context={"clinic_id": 1},
        )
    db.session.commit()
    assert len(db.session.scalars(select(OutboundEmail)).all()) == 1


def test_sweeper_requeues_an_email_stuck_past_the_stale_time(
    queued_email: OutboundEmail, publisher: CollectingPublisher
):
    from datetime import timedelta

    from app.models.base import utcnow

    sweep(db.session, publisher, stale_after=timedelta(seconds=60))
    assert [task for task, _ in publisher.published] == ["mail.send", "mail.send"]

    publisher.published.clear()
    later = utcnow() + timedelta(seconds=120)
    result = sweep(db.session, publisher, stale_after=timedelta(seconds=60), now=later)
    assert result.emails_redriven == 2
    assert sorted(args[0] for _, args in publisher.published) == sorted(
        e.id for e in db.session.scalars(select(OutboundEmail))
    )


# A lead's emails together


def leads_emails(lead_id: int) -> list[OutboundEmail]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(OutboundEmail).where(OutboundEmail.lead_id == lead_id).order_by(OutboundEmail.id)
        )
    )


def send_tasks() -> list[int]:
    """The email ids of the send tasks the outbox holds."""
    rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.task == SEND_EMAIL))
    return [row.args[0] for row in rows]


def each_sent_once(lead_id: int, smtp_server: SmtpServer) -> None:
    ids = [m["Message-ID"] for m in smtp_server.wait_for(3)]
    assert len(ids) == len(set(ids)) == 3
    assert {e.status for e in leads_emails(lead_id)} == {EmailStatus.SENT}


def retried_after_backoff(
    first: Delivery, lead_id: int, email_id: int, smtp_server: SmtpServer
) -> None:
    """The first of the lead's three emails was deferred (451) and the others sent; a send
    task for `email_id` after the backoff sends it, and none reaches the server twice."""
    assert first.outcome is Outcome.RETRY and first.retry_in is not None
    deferred, *others = leads_emails(lead_id)
    assert deferred.status is EmailStatus.PENDING and "451" in (deferred.last_error or "")
    assert {e.status for e in others} == {EmailStatus.SENT}
    later = utcnow() + timedelta(seconds=first.retry_in + 1)
    again = deliver(db.session, email_id, settings_for(smtp_server.url), DELIVERY, now=later)
    assert again.outcome is Outcome.SENT
    each_sent_once(lead_id, smtp_server)


@pytest.fixture
def two_clinics_lead(app: Flask) -> int:
    make_clinic("Alpha")
    make_clinic("Beta")
    return routed_lead(language="en").id


def test_a_routed_leads_emails_go_out_with_one_task_over_one_connection(
    two_clinics_lead: int, smtp_server: SmtpServer
):
    emails = leads_emails(two_clinics_lead)
    [task] = send_tasks()

    result = deliver(db.session, task, settings_for(smtp_server.url), DELIVERY)

    assert result.outcome is Outcome.SENT
    assert len(emails) == 3  # two clinic notices and the patient's confirmation
    sent_ids = {m["Message-ID"] for m in smtp_server.wait_for(3)}
    assert sent_ids == {f"<careroute-email-{e.id}@careroute.test>" for e in emails}
    assert smtp_server.handler.greetings == 1
    assert {(e.status, e.attempts) for e in leads_emails(two_clinics_lead)} == {
        (EmailStatus.SENT, 1)
    }


def test_one_of_a_leads_emails_deferred_is_retried_alone_and_none_goes_twice(
    two_clinics_lead: int, smtp_server: SmtpServer
):
    smtp_server.handler.replies.append("451 4.3.0 Try again later")
    [task] = send_tasks()
    settings = settings_for(smtp_server.url)

    first = deliver(db.session, task, settings, DELIVERY)

    retried_after_backoff(first, two_clinics_lead, task, smtp_server)


def test_one_of_a_leads_emails_refused_fails_for_good_and_the_others_are_sent(
    two_clinics_lead: int, smtp_server: SmtpServer
):
    smtp_server.handler.replies.append("550 5.1.1 No such mailbox")
    [task] = send_tasks()

    result = deliver(db.session, task, settings_for(smtp_server.url), DELIVERY)

    refused, *others = leads_emails(two_clinics_lead)
    assert result.outcome is Outcome.FAILED  # the task's own email was the refused one
    assert refused.status is EmailStatus.FAILED and refused.attempts == 1
    assert {e.status for e in others} == {EmailStatus.SENT}
    assert len(smtp_server.wait_for(2)) == 2


# A lead's emails sent by the task that routed it


@pytest.fixture
def two_clinics_new_lead(app: Flask) -> int:
    make_clinic("Alpha")
    make_clinic("Beta")
    return make_lead(language="en").id


def process_here(lead_id: int) -> Outgoing:
    """Routing as the worker's task runs it: the emails claimed by the task itself."""
    return process_lead(db.session, lead_id, PROCESSING, now=NOW, send_here=DELIVERY)


def test_routing_sends_its_leads_emails_itself_over_one_connection_with_no_send_task(
    two_clinics_new_lead: int, smtp_server: SmtpServer
):
    outgoing = process_here(two_clinics_new_lead)

    assert send_tasks() == []
    emails = leads_emails(two_clinics_new_lead)
    assert {(e.status, e.attempts) for e in emails} == {(EmailStatus.SENDING, 1)}
    result = send_outgoing(db.session, outgoing, settings_for(smtp_server.url), DELIVERY)

    assert result.outcome is Outcome.SENT
    sent_ids = {m["Message-ID"] for m in smtp_server.wait_for(3)}
    assert sent_ids == {f"<careroute-email-{e.id}@careroute.test>" for e in emails}
    assert smtp_server.handler.greetings == 1
    assert {e.status for e in leads_emails(two_clinics_new_lead)} == {EmailStatus.SENT}
    lead = db.session.get(Lead, two_clinics_new_lead)
    assert lead is not None and all(a.sent_at is not None for a in lead.assignments)


def test_a_worker_killed_before_sending_leaves_the_emails_to_the_sweeper_once_its_lease_ends(
    two_clinics_new_lead: int, smtp_server: SmtpServer, publisher: CollectingPublisher
):
    process_here(two_clinics_new_lead)  # the worker dies here, before the send
    stale = timedelta(seconds=60)

    assert sweep(db.session, publisher, stale_after=stale).emails_redriven == 0
    later = utcnow() + timedelta(seconds=DELIVERY.lease_seconds + 1)
    assert sweep(db.session, publisher, stale_after=stale, now=later).emails_redriven == 3
    for _, (email_id,) in publisher.published:
        deliver(db.session, email_id, settings_for(smtp_server.url), DELIVERY, now=later)

    each_sent_once(two_clinics_new_lead, smtp_server)


def test_a_deferred_email_of_the_routing_task_is_retried_by_a_send_task_and_sent_once(
    two_clinics_new_lead: int, smtp_server: SmtpServer
):
    smtp_server.handler.replies.append("451 4.3.0 Try again later")
    settings = settings_for(smtp_server.url)
    outgoing = process_here(two_clinics_new_lead)

    first = send_outgoing(db.session, outgoing, settings, DELIVERY)

    retried_after_backoff(first, two_clinics_new_lead, outgoing.claims[0].id, smtp_server)


def test_an_email_that_cannot_be_built_fails_alone_and_the_routing_stands(
    two_clinics_new_lead: int, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
):
    def broken_template(*_: object, **__: object) -> None:
        raise KeyError("a template's bug")

    monkeypatch.setitem(messages._BUILDERS, "patient_confirmation", broken_template)
    outgoing = process_here(two_clinics_new_lead)
    result = send_outgoing(db.session, outgoing, settings_for(smtp_server.url), DELIVERY)

    assert result.outcome is Outcome.SENT  # the task's first email, a clinic notice
    lead = db.session.get(Lead, two_clinics_new_lead)
    assert lead is not None and lead.processed_at is not None and len(lead.assignments) == 2
    statuses = {e.template: e.status for e in leads_emails(two_clinics_new_lead)}
    assert statuses == {
        "clinic_new_lead": EmailStatus.SENT,
        "patient_confirmation": EmailStatus.FAILED,
    }
    assert len(smtp_server.wait_for(2)) == 2
