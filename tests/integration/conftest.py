"""Real PostgreSQL, Redis, a `celery worker` subprocess and an aiosmtpd server.

When a service is unreachable these tests skip with the reason, unless
CAREROUTE_REQUIRE_SERVICES=1 (CI), where they fail instead.
"""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis
from flask import Flask
from flask_migrate import upgrade
from werkzeug.serving import make_server

from app import create_app
from app.extensions import db
from app.services.clinics.catalog import load_catalog
from tests.support.application import FreshContextClient, app_settings
from tests.support.smtp_server import SmtpServer
from tests.support.stack import (
    PG_ADMIN_URL,
    WorkerProcess,
    free_port,
    relay_running,
    truncate_all,
)

REDIS_URL = os.environ.get("CAREROUTE_TEST_REDIS", "redis://127.0.0.1:6379/13")


def _unavailable(reason: str) -> None:
    if os.environ.get("CAREROUTE_REQUIRE_SERVICES") == "1":
        pytest.fail(f"required service unavailable: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium, for Playwright (never `playwright install`)."""
    path = shutil.which("chromium")
    if path is None:
        _unavailable("Debian's chromium is not installed (apt-get install chromium)")
    assert path is not None
    return path


@pytest.fixture(scope="session")
def pg_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh database for this run, migrated with the project's own migrations."""
    name = f"careroute_it_{uuid.uuid4().hex[:8]}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        _unavailable(f"PostgreSQL at {PG_ADMIN_URL} is unreachable: {exc}")
    admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    url = f"{base}/{name}"
    app = create_app(app_settings(tmp_path_factory.mktemp("migrate"), DATABASE_URL=url))
    with app.app_context():
        upgrade()
        load_catalog(db.session)
        db.engine.dispose()
    yield url
    admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture(scope="session")
def redis_url() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        _unavailable(f"Redis at {REDIS_URL} is unreachable: {exc}")
    return REDIS_URL


@pytest.fixture
def stack_settings(
    tmp_path: Path, pg_url: str, redis_url: str, smtp_server: SmtpServer
) -> dict[str, str]:
    redis.Redis.from_url(redis_url).flushdb()
    return app_settings(
        tmp_path,
        DATABASE_URL=pg_url,
        CELERY_BROKER_URL=redis_url,
        RATELIMIT_STORAGE_URI=redis_url,
        SMTP_URL=smtp_server.url,
        SMTP_TIMEOUT_SECONDS="1",
        MAIL_RETRY_BASE_SECONDS="0.2",
        MAIL_RETRY_MAX_SECONDS="2",
        TASK_TIME_LIMIT_SECONDS="20",
        BROKER_VISIBILITY_TIMEOUT_SECONDS="60",
        OUTBOX_STALE_SECONDS="1",
    )


@pytest.fixture
def stack_app(stack_settings: dict[str, str]) -> Iterator[Flask]:
    app = create_app(stack_settings)
    app.test_client_class = FreshContextClient
    with app.app_context():
        truncate_all()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def careroute(stack_app: Flask) -> Iterator[str]:
    """The app served over HTTP on loopback, as a browser reaches it."""
    port = free_port()
    server = make_server("127.0.0.1", port, stack_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join(10)


@pytest.fixture
def worker(stack_settings: dict[str, str], tmp_path: Path) -> Iterator[WorkerProcess]:
    process = WorkerProcess(stack_settings, tmp_path / "worker.log").start()
    yield process
    process.stop()


@pytest.fixture
def relay_thread(stack_app: Flask) -> Iterator[None]:
    with relay_running(stack_app):
        yield
