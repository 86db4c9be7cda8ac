"""A patient's message is found nowhere in clear: not in the database (encrypted at rest),
logs, Redis, or any email."""

from __future__ import annotations

import logging

import psycopg
import pytest
import redis
from flask import Flask

from app.models import EmailStatus
from tests.support.factories import directory_clinics, send_inquiry
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
    send_inquiry(stack_app, message=f"{CANARY}. It has been like this for two years.")
    wait_until(
        lambda: len(emails()) == 3 and all(e.status is EmailStatus.SENT for e in emails()),
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
