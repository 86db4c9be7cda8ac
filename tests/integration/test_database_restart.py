"""The pool after PostgreSQL dropped every connection (a restart or failover): the next
inquiry, however soon, is stored on a fresh connection, not answered with an error. Every
connection is checked as it leaves the pool (`pool_pre_ping`); checking only those idle for
a while was tried for the round trip it saves and failed this (the relay, a busy worker and
a busy web process reuse connections within milliseconds)."""

from __future__ import annotations

import psycopg
import pytest
from flask import Flask
from sqlalchemy.engine import make_url

from app.extensions import db
from app.models import Lead
from tests.support.checks import count
from tests.support.data import inquiry
from tests.support.forms import submit
from tests.support.stack import PG_ADMIN_URL

pytestmark = pytest.mark.integration


def _drop_every_connection_to(database: str) -> int:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        return len(
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                (database,),
            ).fetchall()
        )


def test_an_inquiry_after_the_database_dropped_its_connections_is_stored(
    stack_app: Flask, pg_url: str
):
    client = stack_app.test_client()
    assert submit(client, "/inquire", inquiry()).status_code == 302
    db.session.remove()
    assert _drop_every_connection_to(make_url(pg_url).database) >= 1

    response = submit(
        client, "/inquire", inquiry(email="second.patient@example.com", phone="+7 701 555 0102")
    )

    assert response.status_code == 302
    assert count(Lead) == 2
