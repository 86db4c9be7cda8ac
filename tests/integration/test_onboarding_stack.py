"""Clinic onboarding end to end: HTTP, PostgreSQL, the outbox relay, Redis, a worker, SMTP."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import Clinic, EmailStatus, OutboxMessage
from app.services.outbox import relay, sweep
from app.task_queue import celery_publisher
from tests.support.data import clinic_application
from tests.support.factories import STAFF_PASSWORD, make_staff
from tests.support.forms import submit
from tests.support.smtp_server import SmtpServer
from tests.support.stack import WorkerProcess, emails, wait_until

pytestmark = pytest.mark.integration

CLINIC_EMAIL = "apply@bukhansan-test.example.com"


def publisher(app: Flask):  # type: ignore[no-untyped-def]
    return lambda: celery_publisher(app.extensions["celery"])


def test_application_over_http_sends_exactly_the_two_emails(
    stack_app: Flask, worker: WorkerProcess, relay_thread: None, smtp_server: SmtpServer
):
    response = submit(stack_app.test_client(), "/clinics/join", clinic_application())
    assert response.status_code == 302

    messages = smtp_server.wait_for(2)
    time.sleep(1.0)  # anything sent twice would arrive by now
    assert sorted(m["To"] for m in smtp_server.messages) == sorted(
        [CLINIC_EMAIL, "staff@careroute.local"]
    )
    assert len(smtp_server.messages) == 2
    verify = next(m for m in messages if m["To"] == CLINIC_EMAIL)
    assert "/clinics/verify/" in verify.get_body(("plain",)).get_content()
    assert all(e.status is EmailStatus.SENT for e in emails())


def test_approval_sends_the_approval_email_and_lists_the_clinic(
    stack_app: Flask, worker: WorkerProcess, relay_thread: None, smtp_server: SmtpServer
):
    client = stack_app.test_client()
    submit(client, "/clinics/join", clinic_application())
    verify = next(m for m in smtp_server.wait_for(2) if m["To"] == CLINIC_EMAIL)
    # Approval needs the verified address: the clinic follows its link first.
    text = verify.get_body(("plain",)).get_content()
    link = re.search(r"https?://[^/\s]+(/clinics/verify/\S+)", text)
    assert link and client.get(link.group(1)).status_code == 200
    make_staff("reviewer@careroute.test")
    submit(client, "/staff/login", {"email": "reviewer@careroute.test", "password": STAFF_PASSWORD})
    clinic = db.session.scalar(select(Clinic))

    page = f"/staff/clinics/{clinic.id}"
    assert submit(client, page, {}, action=f"{page}/approve").status_code == 302

    messages = smtp_server.wait_for(3)
    # A clinic that applied is Korean by default: its approval comes in Korean.
    assert "Bukhansan Knee Test Clinic" in messages[2]["Subject"]
    assert "now listed" not in messages[2]["Subject"]
    assert messages[2]["To"] == CLINIC_EMAIL
    assert "Bukhansan Knee Test Clinic" in client.get("/clinics").get_data(as_text=True)
    assert client.get(f"/clinics/{clinic.slug}").status_code == 200


def test_the_response_goes_out_while_the_broker_is_down_and_nothing_is_lost(
    stack_app: Flask, stack_settings: dict[str, str], smtp_server: SmtpServer, tmp_path
):
    from app import create_app

    down = create_app({**stack_settings, "CELERY_BROKER_URL": "redis://127.0.0.1:1/0"})
    started = time.monotonic()
    with down.app_context():
        response = submit(down.test_client(), "/clinics/join", clinic_application())
        assert relay(db.session, publisher(down)).waiting == 2
        db.session.remove()
    assert response.status_code == 302
    assert time.monotonic() - started < 5

    assert db.session.scalar(select(Clinic)) is not None
    unpublished = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.published_at.is_(None))
    ).all()
    assert len(unpublished) == 2

    # The broker is back: the relay publishes, a worker sends each email once.
    worker = WorkerProcess(stack_settings, tmp_path / "worker.log").start()
    try:
        assert relay(db.session, publisher(stack_app)).published == 2
        smtp_server.wait_for(2)
        time.sleep(1.0)
        assert len(smtp_server.messages) == 2
    finally:
        worker.stop()


@pytest.mark.parametrize("hold", ["rcpt", "data"])
def test_a_worker_killed_mid_send_delivers_after_restart_with_one_message_id(
    stack_app: Flask, worker: WorkerProcess, smtp_server: SmtpServer, hold: str
):
    """Killed before the server accepted (rcpt): delivered once. Killed after it accepted and
    before the row was marked sent (data): one copy follows, with the same Message-ID."""
    import threading

    release = threading.Event()
    setattr(smtp_server.handler, f"hold_{hold}", release)
    submit(stack_app.test_client(), "/clinics/join", clinic_application())
    relay(db.session, publisher(stack_app))

    assert smtp_server.handler.waiting.wait(20), worker.log()
    worker.kill()
    setattr(smtp_server.handler, f"hold_{hold}", None)
    release.set()

    worker.start()

    # The killed send still holds its lease; once it runs out the sweeper re-drives the row.
    def all_sent() -> bool:
        sweep(db.session, publisher(stack_app), stale_after=timedelta(seconds=1))
        return all(e.status is EmailStatus.SENT for e in emails())

    wait_until(all_sent, timeout=40, message="every email sent after the restart")
    time.sleep(1.0)
    by_recipient: dict[str, set[str]] = {}
    for message in smtp_server.messages:
        by_recipient.setdefault(message["To"], set()).add(message["Message-ID"])
    assert set(by_recipient) == {CLINIC_EMAIL, "staff@careroute.local"}
    assert all(len(ids) == 1 for ids in by_recipient.values())
    copies = sorted(sum(1 for m in smtp_server.messages if m["To"] == to) for to in by_recipient)
    if hold == "rcpt":
        assert copies == [1, 1]
    else:
        # The worker runs two sends at once, so either email may have been held when it died;
        # the held one is resent once, never more.
        assert copies[-1] == 2 and copies[0] in (1, 2)
