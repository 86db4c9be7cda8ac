"""A burst of inquiries at once, routed by four worker processes on real PostgreSQL, Redis
and SMTP: more demand than the clinics have places, and nothing lost, overbooked or sent
twice."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.extensions import db
from app.models import Assignment, Clinic, EmailStatus, Lead, LeadStatus
from app.services.leads.intake import submit_inquiry
from app.services.mail.delivery import message_id
from bench.burst import burst_inquiry
from tests.support.factories import make_clinic
from tests.support.smtp_server import SmtpServer
from tests.support.stack import WorkerProcess, emails, relay_running, wait_until

pytestmark = pytest.mark.integration

INQUIRIES = 100
WORKERS = 4
# (name, languages, lowest price, weekly capacity): 54 places for up to 300 asked for.
CLINICS = [
    ("Burst Alpha", ("ko", "ru"), 8000, 12),
    ("Burst Bravo", ("ko", "en"), 20000, 10),
    ("Burst Charlie", ("ko",), 9000, 15),
    ("Burst Delta", ("ko", "ru", "en"), 12000, 8),
    ("Burst Echo", ("ko",), None, 9),
]


@pytest.fixture
def workers(stack_settings: dict[str, str], tmp_path: Path) -> Iterator[list[WorkerProcess]]:
    """Four `celery worker` processes of one task each, as four small hosts would run them,
    started together."""
    started = [
        WorkerProcess(
            stack_settings, tmp_path / f"worker{n}.log", concurrency=1, name=f"burst{n}"
        ).launch()
        for n in range(WORKERS)
    ]
    try:
        for worker in started:
            worker.wait_ready(timeout=60)
        yield started
    finally:
        for worker in started:
            worker.stop()


def store_inquiries(count: int) -> list[int]:
    """`count` patients' inquiries stored as intake stores them (the bench's patients)."""
    return [
        submit_inquiry(db.session, burst_inquiry(n, "burst-alpha"), None, "").lead_id
        for n in range(count)
    ]


def errors(worker: WorkerProcess) -> list[str]:
    """The worker's log lines about a task that raised (a deadlock, a lock timeout)."""
    return [line for line in worker.log().splitlines() if " ERROR " in line]


def test_a_burst_is_routed_within_capacity_and_every_email_is_sent_once(
    stack_app: Flask, workers: list[WorkerProcess], smtp_server: SmtpServer
):
    for name, languages, price, capacity in CLINICS:
        make_clinic(name, languages=languages, price_min=price, capacity=capacity)
    lead_ids = store_inquiries(INQUIRIES)

    # Every processing task is published at once, to workers already waiting.
    with relay_running(stack_app):

        def settled() -> bool:
            """Every lead processed and every email sent, or a worker's task failed."""
            db.session.expire_all()
            unprocessed = db.session.scalar(
                select(func.count(Lead.id)).where(Lead.processed_at.is_(None))
            )
            sent = all(e.status is EmailStatus.SENT for e in emails())
            return (unprocessed == 0 and sent) or any(errors(w) for w in workers)

        wait_until(settled, timeout=90, message="every lead processed and every email sent")
    assert not [line for w in workers for line in errors(w)]

    leads = db.session.scalars(select(Lead).where(Lead.id.in_(lead_ids))).all()
    failed = [lead.id for lead in leads if lead.processing_failed]
    retried = {lead.id: lead.processing_attempts for lead in leads if lead.processing_attempts > 1}
    assert not failed and not retried, (failed, retried)
    routed = [lead for lead in leads if lead.status is LeadStatus.ROUTED]
    no_match = [lead for lead in leads if lead.status is LeadStatus.NEW and lead.no_matching_clinic]
    assert len(routed) + len(no_match) == INQUIRIES
    assert all(lead.assignments for lead in routed)
    assert not any(lead.assignments for lead in no_match)

    # Demand exceeds the places, so every place is taken, and none twice over.
    given = Counter(db.session.scalars(select(Assignment.clinic_id)))
    for clinic in db.session.scalars(select(Clinic)):
        assert given[clinic.id] == clinic.weekly_capacity == clinic.week_leads, clinic.name

    outbox = emails()
    sender = stack_app.config["MAIL_FROM"]
    assert Counter(e.recipient for e in outbox) == Counter(
        [lead.email for lead in leads]
        + [a.clinic.email for lead in routed for a in lead.assignments]
    )
    smtp_server.wait_for(len(outbox), timeout=10)
    time.sleep(1.0)  # a copy sent twice would arrive about now
    received = Counter(m["Message-ID"] for m in smtp_server.messages)
    assert received == Counter(message_id(e.id, sender) for e in outbox)
    assert Counter(m["To"] for m in smtp_server.messages) == Counter(e.recipient for e in outbox)
