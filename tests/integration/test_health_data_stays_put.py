"""A patient's message, their messages to clinics and the documents they add are found nowhere
in clear: not in the database (encrypted at rest), the upload folder, logs, Redis, or any
email."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import psycopg
import pytest
import redis
from flask import Flask

from app.extensions import db
from app.models import EmailStatus, Lead
from app.services.privacy.patient_links import status_token
from tests.support.data import PDF_BYTES
from tests.support.factories import directory_clinics, send_inquiry
from tests.support.forms import submit
from tests.support.smtp_server import SmtpServer
from tests.support.stack import WorkerProcess, emails, wait_until

pytestmark = pytest.mark.integration

CANARY = "CANARY-b81f-my-knee-swells-after-stairs"


def redis_contents(url: str) -> bytes:
    client = redis.Redis.from_url(url)
    dump = bytearray()
    for key in client.scan_iter(count=1000):
        dump += key
        kind = client.type(key)
        if kind == b"string":
            dump += client.get(key) or b""
        elif kind == b"list":
            dump += b"".join(client.lrange(key, 0, -1))
        elif kind == b"hash":
            dump += b"".join(k + v for k, v in client.hgetall(key).items())
        elif kind == b"zset":
            dump += b"".join(client.zrange(key, 0, -1))
        elif kind == b"set":
            dump += b"".join(client.smembers(key))
    return bytes(dump)


def database_contents(pg_url: str) -> str:
    """Every row of every table, read through a plain connection (not the app)."""
    dump = []
    with psycopg.connect(pg_url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        tables = connection.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
        for (name,) in tables:
            dump += [repr(row) for row in connection.execute(f'SELECT * FROM "{name}"')]
    return "\n".join(dump)


def test_a_canary_in_the_message_is_found_nowhere_in_clear(
    stack_app: Flask,
    pg_url: str,
    worker: WorkerProcess,
    relay_thread: None,
    smtp_server: SmtpServer,
    redis_url: str,
    caplog: pytest.LogCaptureFixture,
):
    caplog.set_level(logging.DEBUG)
    directory_clinics()
    lead = send_inquiry(stack_app, message=f"{CANARY}. It has been like this for two years.")
    wait_until(lambda: len(emails()) == 3, timeout=30, message="routed")
    # The same canary in a message to a clinic, and in a document added on the patient's page.
    patient, page = stack_app.test_client(), f"/inquire/status/{status_token(lead)}"
    db.session.expire_all()
    [first, *_] = db.session.get(Lead, lead.id).assignments
    submit(
        patient,
        page,
        {f"m{first.id}-body": f"Also: {CANARY}"},
        action=f"{page}/clinics/{first.id}/messages",
    )
    document = PDF_BYTES.replace(b"%%EOF", f"% {CANARY}\n%%EOF".encode())
    added = submit(
        patient,
        page,
        {"files": [(io.BytesIO(document), "mri.pdf")]},
        action=f"{page}/documents",
        content_type="multipart/form-data",
    )
    assert added.status_code == 302
    wait_until(
        lambda: len(emails()) == 6 and all(e.status is EmailStatus.SENT for e in emails()),
        timeout=30,
        message="all sent",
    )

    stored = database_contents(pg_url)
    assert "Aigerim" in stored  # the dump is real: names stay in clear
    assert CANARY not in stored
    assert "+77015550101" not in stored and "7015550101" not in stored
    assert CANARY not in worker.log()
    assert CANARY not in caplog.text
    assert CANARY.encode() not in redis_contents(redis_url)
    for message in smtp_server.messages:
        assert CANARY not in message.as_string()
    assert all(CANARY not in str(e.context) for e in emails())
    files = [path.read_bytes() for path in Path(stack_app.config["UPLOAD_DIR"]).iterdir()]
    assert files and all(CANARY.encode() not in content for content in files)
