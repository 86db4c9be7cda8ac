"""Fixtures shared by unit and integration tests (helpers they use live in tests/support)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from app.models import StaffRole, StaffUser
from tests.support.application import app_settings, make_app
from tests.support.broker import CollectingPublisher
from tests.support.factories import STAFF_PASSWORD, make_staff
from tests.support.forms import submit
from tests.support.smtp_server import SmtpServer


@pytest.fixture
def settings(tmp_path: Any) -> dict[str, str]:
    return app_settings(tmp_path)


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
    return make_staff("triager@careroute.test")


@pytest.fixture
def staff_client(client: FlaskClient, staff_user: StaffUser) -> FlaskClient:
    response = submit(
        client, "/staff/login", {"email": staff_user.email, "password": STAFF_PASSWORD}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


@pytest.fixture
def admin_client(app: Flask) -> FlaskClient:
    """An admin signed in to the console, in a browser of their own."""
    admin = make_staff("admin@careroute.test", StaffRole.ADMIN)
    client = app.test_client()
    submit(client, "/staff/login", {"email": admin.email, "password": STAFF_PASSWORD})
    return client


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def publisher() -> CollectingPublisher:
    return CollectingPublisher()
