"""Fixtures shared by unit and integration tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.extensions import db
from app.models import StaffRole, StaffUser
from app.services.accounts.staff import create_staff
from app.services.clinics.catalog import load_catalog
from tests.support.smtp_server import SmtpServer

STAFF_PASSWORD = "correct horse battery staple"
# A fixed Fernet key for tests only (production keys come from the environment).
TEST_DATA_KEY = "dGVzdC1vbmx5LWRhdGEta2V5LW5vdC1mb3ItdXNlISE="


def app_settings(tmp_path: Any, **overrides: str) -> dict[str, str]:
    """Settings as an operator would set them, pointing every file into `tmp_path`."""
    return {
        "CAREROUTE_ENV": "testing",
        "SECRET_KEY": "test-secret-key-not-for-production",
        "DATA_KEYS": TEST_DATA_KEY,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'test.db'}",
        "CELERY_BROKER_URL": "memory://",
        "SMTP_URL": "smtp://127.0.0.1:9",
        "REPLY_TO": "CareRoute <care@careroute.test>",
        "MAILCATCHER_DIR": str(tmp_path / "devmail"),
        "RATELIMIT_STORAGE_URI": "memory://",
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "INQUIRY_MIN_FILL_SECONDS": "0",
        "INQUIRY_RATE_LIMIT": "1000 per minute",
        **overrides,
    }


@pytest.fixture
def settings(tmp_path: Any) -> dict[str, str]:
    return app_settings(tmp_path)


class FreshContextClient(FlaskClient):
    """Each request gets its own app context, as in production.

    The `app` fixture keeps a context open for the test's own database access; without
    this, requests would share its `g` (and so one cached CSRF token) across requests.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        with self.application.app_context():
            return super().open(*args, **kwargs)


def make_app(settings: dict[str, str], **overrides: str) -> Flask:
    """An app on the test's database (tables and catalogue in place), with `overrides`."""
    app = create_app({**settings, **overrides})
    app.test_client_class = FreshContextClient
    with app.app_context():
        db.create_all()
        load_catalog(db.session)
    return app


@pytest.fixture
def app(settings: dict[str, str]) -> Iterator[Flask]:
    app = make_app(settings)
    with app.app_context():
        yield app
        db.session.remove()
        db.drop_all()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def staff_user(app: Flask) -> StaffUser:
    return create_staff(db.session, "triager@careroute.test", StaffRole.TRIAGER, STAFF_PASSWORD)


@pytest.fixture
def staff_client(client: FlaskClient, staff_user: StaffUser) -> FlaskClient:
    from tests.support.forms import submit

    response = submit(
        client, "/staff/login", {"email": staff_user.email, "password": STAFF_PASSWORD}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


class CollectingPublisher:
    """Stands in for the broker in unit tests of the outbox logic (integration uses Redis)."""

    def __init__(self, fail_after: int | None = None) -> None:
        self.published: list[tuple[str, list[Any]]] = []
        self.fail_after = fail_after

    @contextmanager
    def __call__(self) -> Iterator[Any]:
        def publish(task: str, args: Any) -> None:
            if self.fail_after is not None and len(self.published) >= self.fail_after:
                raise ConnectionRefusedError("broker down")
            self.published.append((task, list(args)))

        yield publish


@pytest.fixture
def publisher() -> CollectingPublisher:
    return CollectingPublisher()
