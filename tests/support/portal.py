"""Clinic users and their sign-in, for portal tests on SQLite and on the real stack."""

from __future__ import annotations

import re
from functools import cache

from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.models import Clinic, ClinicUser, OutboundEmail
from app.models.base import utcnow
from app.services.accounts.passwords import hash_password
from app.services.mail.messages import RenderedEmail, render
from tests.support.forms import submit

CLINIC_PASSWORD = "a clinic password for tests"


def rendered(email: OutboundEmail) -> RenderedEmail:
    """An outbox row rendered as the worker would send it."""
    return render(db.session, email.template, email.context, email.language)


@cache
def _password_hash() -> str:
    """argon2id is slow on purpose; one hash serves every test's clinic users."""
    return hash_password(CLINIC_PASSWORD)


def clinic_user(clinic: Clinic, email: str | None = None) -> ClinicUser:
    user = ClinicUser(
        clinic=clinic,
        email=email or clinic.email,
        password_hash=_password_hash(),
        password_set_at=utcnow(),
    )
    db.session.add(user)
    db.session.commit()
    return user


def sign_in(client: FlaskClient, email: str, password: str = CLINIC_PASSWORD) -> FlaskClient:
    response = submit(client, "/portal/login", {"email": email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def links_in(template: str, recipient: str | None = None) -> list[str]:
    """Every link in the rendered text of the outbox emails made from `template`."""
    query = select(OutboundEmail).where(OutboundEmail.template == template)
    if recipient:
        query = query.where(OutboundEmail.recipient == recipient)
    links: list[str] = []
    for email in db.session.scalars(query.order_by(OutboundEmail.id)):
        links += re.findall(r"https?://\S+", rendered(email).text)
    return links


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)
