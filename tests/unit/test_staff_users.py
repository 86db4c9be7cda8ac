"""Roles: admins manage staff accounts; a deactivated account is signed out at once."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, LoginSession, StaffRole, StaffUser
from app.models.base import utcnow
from app.services.accounts.sessions import SessionLimits, find_live_session
from tests.support.factories import STAFF_PASSWORD, make_staff
from tests.support.forms import submit


def sign_in(client: FlaskClient, email: str, password: str = STAFF_PASSWORD) -> None:
    response = submit(client, "/staff/login", {"email": email, "password": password})
    assert response.status_code == 302


def make_admin() -> StaffUser:
    return make_staff("admin@careroute.test", StaffRole.ADMIN)


def test_a_triager_cannot_manage_accounts(staff_client: FlaskClient):
    assert staff_client.get("/staff/users").status_code == 403
    assert staff_client.post("/staff/users", data={}).status_code in (400, 403)


def test_an_admin_creates_an_account_that_can_sign_in(app: Flask):
    admin_client = app.test_client()
    sign_in(admin_client, make_admin().email)
    response = submit(
        admin_client,
        "/staff/users",
        {"email": "new@careroute.test", "role": "triager", "password": "a long enough password"},
    )
    assert response.status_code == 302
    sign_in(app.test_client(), "new@careroute.test", "a long enough password")
    event = db.session.scalar(
        select(AuditEvent)
        .where(AuditEvent.action == "staff.created")
        .order_by(AuditEvent.id.desc())
    )
    assert event.actor_label == "admin@careroute.test"


def test_a_deactivated_account_is_signed_out_at_its_next_request(
    app: Flask, staff_client: FlaskClient, staff_user: StaffUser
):
    admin_client = app.test_client()
    sign_in(admin_client, make_admin().email)
    submit(admin_client, "/staff/users", {}, action=f"/staff/users/{staff_user.id}/active")

    response = staff_client.get("/staff/leads")
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]


def test_a_password_reset_ends_the_accounts_sessions(
    app: Flask, staff_client: FlaskClient, staff_user: StaffUser
):
    admin_client = app.test_client()
    sign_in(admin_client, make_admin().email)
    submit(
        admin_client,
        "/staff/users",
        {"password": "another long password"},
        action=f"/staff/users/{staff_user.id}/password",
    )

    assert staff_client.get("/staff/leads").status_code == 302
    sign_in(app.test_client(), staff_user.email, "another long password")


def test_sessions_end_after_30_minutes_idle_or_8_hours_in_all(
    app: Flask, staff_client: FlaskClient
):
    login = db.session.scalar(select(LoginSession))
    now = utcnow()
    limits = SessionLimits(idle=timedelta(minutes=30), max_age=timedelta(hours=8))
    assert find_live_session(db.session, login.id, limits, limits, now=now) is not None
    login.last_seen_at = now - timedelta(minutes=31)
    db.session.commit()
    assert find_live_session(db.session, login.id, limits, limits, now=now) is None

    second = db.session.scalar(select(LoginSession).where(LoginSession.ended_at.is_(None)))
    assert second is None  # the idle one was ended for good
