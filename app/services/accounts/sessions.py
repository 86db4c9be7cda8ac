"""Server-side sign-in sessions: each ends on idle, on age, at sign-out and on a password change."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import LoginSession, StaffUser
from app.models.base import DbSession, utcnow
from app.services import audit
from app.services.accounts.passwords import Account, actor_of


@dataclass(frozen=True)
class SessionLimits:
    idle: timedelta
    max_age: timedelta


def _kind(account: Account) -> str:
    return "staff" if isinstance(account, StaffUser) else "clinic_user"


def start_session(session: DbSession, account: Account) -> LoginSession:
    """A fresh random session id at every sign-in (no fixation)."""
    login = LoginSession(id=secrets.token_urlsafe(32))
    if isinstance(account, StaffUser):
        login.staff_user_id = account.id
    else:
        login.clinic_user_id = account.id
    account.last_login_at = utcnow()
    session.add(login)
    session.commit()
    return login


def end_session(session: DbSession, login_session_id: str) -> None:
    login = session.get(LoginSession, login_session_id)
    if login is not None and login.ended_at is None:
        login.ended_at = utcnow()
        account = login.staff_user or login.clinic_user
        assert account is not None
        action = f"{_kind(account)}.logout"
        if login.is_staff:
            audit.record(session, actor_of(account), action, staff_user=account.id)
        else:
            audit.record(session, actor_of(account), action, clinic_user=account.id)
        session.commit()


def find_live_session(
    session: DbSession,
    login_session_id: str,
    staff: SessionLimits,
    portal: SessionLimits,
    now: datetime | None = None,
) -> LoginSession | None:
    """The sign-in behind a cookie, if it was not ended, idled out, outlived or deactivated."""
    now = now or utcnow()
    login = session.get(LoginSession, login_session_id)
    if login is None or not login.is_active:
        return None
    limits = staff if login.is_staff else portal
    if now - login.last_seen_at > limits.idle or now - login.created_at > limits.max_age:
        login.ended_at = now
        session.commit()
        return None
    # One write a minute at most, not one per request.
    if now - login.last_seen_at > timedelta(minutes=1):
        login.last_seen_at = now
        session.commit()
    return login


def load_login_session(login_session_id: str) -> LoginSession | None:
    """Flask-Login's user loader."""
    config = current_app.config
    return find_live_session(
        db.session,
        login_session_id,
        staff=SessionLimits(
            timedelta(minutes=config["STAFF_IDLE_MINUTES"]),
            timedelta(hours=config["STAFF_SESSION_HOURS"]),
        ),
        portal=SessionLimits(
            timedelta(minutes=config["PORTAL_IDLE_MINUTES"]),
            timedelta(hours=config["PORTAL_SESSION_HOURS"]),
        ),
    )


def end_all_sessions(session: DbSession, account: Account) -> None:
    """After a password change or deactivation: every browser signed in as them is out."""
    column = (
        LoginSession.staff_user_id
        if isinstance(account, StaffUser)
        else LoginSession.clinic_user_id
    )
    for login in session.scalars(
        select(LoginSession).where(column == account.id, LoginSession.ended_at.is_(None))
    ):
        login.ended_at = utcnow()
