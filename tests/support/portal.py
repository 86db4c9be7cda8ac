"""Signing in to the clinic portal, for portal tests on SQLite and on the real stack."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.support.factories import CLINIC_PASSWORD
from tests.support.forms import submit


def sign_in(client: FlaskClient, email: str, password: str = CLINIC_PASSWORD) -> FlaskClient:
    """Sign in as a clinic user (made by `make_clinic_user`, so CLINIC_PASSWORD by default)."""
    response = submit(client, "/portal/login", {"email": email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client
