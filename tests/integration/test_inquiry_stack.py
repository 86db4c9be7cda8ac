"""Inquiries end to end on real PostgreSQL, Redis, worker processes and SMTP, with faults."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
import redis
from flask import Flask
from sqlalchemy import func, select

from app import create_app
from app.extensions import db
from app.models import Assignment, EmailStatus, Lead, LeadStatus
from app.models.base import utcnow
from app.services.leads.processing import redrive_stuck_leads
from app.services.outbox import relay, sweep
from app.task_queue import celery_publisher
from tests.support.data import inquiry
from tests.support.factories import directory_clinics, send_inquiry
from tests.support.forms import submit
from tests.support.smtp_server import SmtpServer
from tests.support.stack import PG_ADMIN_URL, WorkerProcess, emails, wait_until

pytestmark = pytest.mark.integration

PATIENT = "aigerim.testova@example.com"


def publisher(app: Flask):  # type: ignore[no-untyped-def]
    return lambda: celery_publisher(app.extensions["celery"])


def sweep_now(app: Flask) -> None:
    """What beat's sweeper does, run on demand instead of waiting for its schedule."""
    redrive_stuck_leads(db.session, timedelta(seconds=1), utcnow())
    db.session.commit()
    sweep(db.session, publisher(app), stale_after=timedelta(seconds=1))


@pytest.fixture
def clinics(stack_app: Flask) -> None:
    directory_clinics()


def test_an_inquiry_reaches_the_patient_and_each_routed_clinic_once(
    stack_app: Flask,
    clinics: None,
    worker: WorkerProcess,
    relay_thread: None,
    smtp_server: SmtpServer,
):
    lead = send_inquiry(stack_app, language="en")

    def done() -> bool:
        db.session.expire_all()
        return db.session.get(Lead, lead.id).processed_at is not None

    wait_until(done, timeout=20, message="the lead processed")
    assignments = db.session.scalars(
        select(Assignment).where(Assignment.lead_id == lead.id).order_by(Assignment.rank)
    ).all()
    assert len(assignments) == 2  # the two clinics offering autologous MSC injection
    assert all({"speaks_language", "budget_fits"} <= a.score.keys() for a in assignments)
    messages = smtp_server.wait_for(3, timeout=20)
    time.sleep(1.0)
    recipients = sorted(m["To"] for m in smtp_server.messages)
    assert recipients == sorted([PATIENT, *(a.clinic.email for a in assignments)])
    confirmation = next(m for m in messages if m["To"] == PATIENT)
    body = confirmation.get_body(("plain",)).get_content()
    assert all(a.clinic.name in body for a in assignments)
    assert lead.reference in body


def test_with_the_broker_down_the_patient_is_thanked_and_mail_follows_once_back(
    stack_app: Flask,
    stack_settings: dict[str, str],
    clinics: None,
    smtp_server: SmtpServer,
    tmp_path: Path,
):
    down = create_app({**stack_settings, "CELERY_BROKER_URL": "redis://127.0.0.1:1/0"})
    with down.app_context():
        response = submit(down.test_client(), "/inquire", inquiry())
        assert response.status_code == 302
        assert relay(db.session, publisher(down)).published == 0
        db.session.remove()
    assert db.session.scalar(select(func.count(Lead.id))) == 1

    worker = WorkerProcess(stack_settings, tmp_path / "worker.log").start()
    try:

        def all_sent() -> bool:
            relay(db.session, publisher(stack_app))  # what the relay process does
            return len(emails()) == 3 and all(e.status is EmailStatus.SENT for e in emails())

        wait_until(all_sent, timeout=30, message="every email sent")
        sweep_now(stack_app)  # a late sweep must not send anything again
        time.sleep(1.5)
        assert len(smtp_server.messages) == 3
    finally:
        worker.stop()


@contextmanager
def clinics_held(pg_url: str) -> Iterator[None]:
    """Hold every clinic's row from outside (as a recount would), so a worker's routing
    waits for them at a known point."""
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + pg_url.rsplit("/", 1)[1]
    with psycopg.connect(url) as holder:
        holder.execute("SELECT id FROM clinics ORDER BY id FOR UPDATE").fetchall()
        yield
        holder.rollback()


def _waiting_on_clinic_rows(pg_url: str) -> set[int]:
    """The database sessions (backend pids) of this test's database waiting for a lock."""
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT l.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE NOT l.granted AND a.datname = %s",
            (pg_url.rsplit("/", 1)[1],),
        ).fetchall()
    return {row[0] for row in rows}


def test_a_worker_killed_mid_routing_routes_once_after_restart(
    stack_app: Flask,
    clinics: None,
    worker: WorkerProcess,
    smtp_server: SmtpServer,
    pg_url: str,
):
    with clinics_held(pg_url):
        lead = send_inquiry(stack_app)
        relay(db.session, publisher(stack_app))
        wait_until(
            lambda: _waiting_on_clinic_rows(pg_url),
            timeout=20,
            message="routing waiting for the clinics' rows",
        )
        worker.kill()
    worker.start()

    def routed() -> bool:
        sweep_now(stack_app)
        return len(emails()) == 3 and all(e.status is EmailStatus.SENT for e in emails())

    wait_until(routed, timeout=40, message="the lead routed and mailed after the restart")
    time.sleep(1.0)
    assert (
        db.session.scalar(select(func.count(Assignment.id)).where(Assignment.lead_id == lead.id))
        == 2
    )
    assert len(smtp_server.messages) == 3


def test_a_lead_that_kills_its_worker_every_time_is_flagged_not_retried_forever(
    stack_app: Flask,
    clinics: None,
    worker: WorkerProcess,
    pg_url: str,
):
    with clinics_held(pg_url):
        lead = send_inquiry(stack_app)
        relay(db.session, publisher(stack_app))
        seen: set[int] = set()

        def flagged() -> bool:
            db.session.expire_all()
            if db.session.get(Lead, lead.id).processing_failed:
                return True
            waiting = _waiting_on_clinic_rows(pg_url)
            if waiting - seen:
                seen.update(waiting)
                kill_pool_children(worker)
            sweep_now(stack_app)  # beat's sweeper re-drives the lead after each crash
            return False

        wait_until(flagged, timeout=90, message="the lead flagged as failing")
    assert seen
    lead = db.session.get(Lead, lead.id)
    assert lead.processing_attempts == 3 and lead.status is LeadStatus.NEW
    # Flagged leads are not re-driven any more, however often the sweeper runs.
    for _ in range(3):
        sweep_now(stack_app)
        time.sleep(0.5)
    db.session.expire_all()
    assert db.session.get(Lead, lead.id).processing_attempts == 3


def kill_pool_children(worker: WorkerProcess) -> None:
    """Crash the process running the task (as a segfault would), leaving the main worker."""
    assert worker.process is not None
    children = subprocess.run(
        ["pgrep", "-P", str(worker.process.pid)], capture_output=True, text=True
    ).stdout.split()
    for pid in children:
        os.kill(int(pid), 9)


def test_451_twice_then_accepted_is_delivered_once(
    stack_app: Flask,
    worker: WorkerProcess,
    relay_thread: None,
    smtp_server: SmtpServer,
    clinics: None,
):
    smtp_server.handler.replies.extend(["451 4.3.0 Try again later"] * 2)
    send_inquiry(stack_app)
    wait_until(
        lambda: len(emails()) == 3 and all(e.status is EmailStatus.SENT for e in emails()),
        timeout=30,
        message="all sent",
    )
    time.sleep(1.0)
    assert len(smtp_server.messages) == 3
    assert sum(e.attempts for e in emails()) == 5


def test_550_fails_at_once_and_is_not_retried(
    stack_app: Flask,
    worker: WorkerProcess,
    relay_thread: None,
    smtp_server: SmtpServer,
):
    smtp_server.handler.replies.append("550 5.1.1 Mailbox unavailable")
    send_inquiry(stack_app)  # no clinics: only the patient's confirmation
    wait_until(
        lambda: emails() and emails()[0].status is EmailStatus.FAILED,
        timeout=20,
        message="the email failed",
    )
    time.sleep(1.5)
    [email] = emails()
    assert email.attempts == 1 and "550" in email.last_error
    assert smtp_server.handler.attempts == 1


def test_a_silent_server_times_out_and_other_emails_keep_flowing(
    stack_app: Flask,
    worker: WorkerProcess,
    relay_thread: None,
    smtp_server: SmtpServer,
    clinics: None,
):
    smtp_server.handler.stall_rcpts.add(PATIENT)
    send_inquiry(stack_app)

    def clinics_mailed() -> bool:
        sent = [e for e in emails() if e.status is EmailStatus.SENT]
        return len(sent) == 2

    wait_until(clinics_mailed, timeout=30, message="the clinics' emails sent")
    wait_until(
        lambda: smtp_server.handler.stalled >= 2, timeout=30, message="the stalled send retried"
    )
    confirmation = next(e for e in emails() if e.recipient == PATIENT)
    assert confirmation.status is not EmailStatus.SENT
    assert "timed out" in (confirmation.last_error or "").lower()


def restart_redis() -> None:
    subprocess.run(["redis-cli", "-p", "6379", "shutdown", "nosave"], capture_output=True)
    subprocess.run(
        [
            "redis-server",
            "--daemonize",
            "yes",
            "--bind",
            "127.0.0.1",
            "-::1",
            "--port",
            "6379",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            "/var/lib/redis",
            "--logfile",
            "/var/log/redis/ci.log",
        ],
        check=True,
        capture_output=True,
    )
    client = redis.Redis(port=6379)
    for _ in range(50):
        try:
            client.ping()
            return
        except redis.ConnectionError:
            time.sleep(0.1)
    raise AssertionError("Redis did not come back")


def test_after_three_redis_restarts_a_new_inquiry_is_still_routed(
    stack_app: Flask,
    worker: WorkerProcess,
    smtp_server: SmtpServer,
    clinics: None,
):
    if not Path("/var/lib/redis").is_dir():
        pytest.skip("this test restarts the machine's own Redis; /var/lib/redis is missing")
    for _ in range(3):
        restart_redis()
        time.sleep(2.0)
    stop = threading.Event()

    def relay_loop() -> None:
        while not stop.is_set():
            with stack_app.app_context():
                relay(db.session, publisher(stack_app))
            stop.wait(0.2)

    thread = threading.Thread(target=relay_loop, daemon=True)
    thread.start()
    try:
        send_inquiry(stack_app)
        wait_until(
            lambda: len(smtp_server.messages) >= 3,
            timeout=60,
            message="the inquiry routed and mailed after the restarts",
        )
    finally:
        stop.set()
        thread.join(5)
    assert worker.process is not None and worker.process.poll() is None
