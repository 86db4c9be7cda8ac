"""Staff accounts, password hashing and server-side sign-in sessions."""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import LoginSession, StaffRole, StaffUser
from app.models.base import utcnow
from app.services import audit

log = logging.getLogger(__name__)

# argon2id with argon2-cffi's RFC 9106 low-memory profile (t=3, m=64 MiB, p=4): above the
# OWASP minimum, unlike Werkzeug's default scrypt parameters.
_hasher = PasswordHasher()
# Verified against when the email is unknown, so both failures take the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

MIN_PASSWORD_LENGTH = 12


class WeakPassword(ValueError):
    pass


class StaffEmailTaken(ValueError):
    pass


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def create_staff(
    session: Session, email: str, role: StaffRole, password: str, by: StaffUser | None = None
) -> StaffUser:
    email = email.strip().lower()
    if session.scalar(select(StaffUser.id).where(StaffUser.email == email)) is not None:
        raise StaffEmailTaken(email)
    user = StaffUser(email=email, role=role, password_hash=hash_password(password), active=True)
    session.add(user)
    session.flush()
    audit.record(
        session,
        audit.Actor.staff(by) if by else audit.Actor.system("cli"),
        "staff.created",
        "staff_user",
        user.id,
        {"role": role.value},
    )
    session.commit()
    return user


def authenticate(session: Session, email: str, password: str, client: str) -> StaffUser | None:
    """Check a sign-in; every attempt, good or bad, is an audit event."""
    email = email.strip().lower()
    user = session.scalar(select(StaffUser).where(StaffUser.email == email))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
        ok = user is not None and user.active
    except (VerificationError, InvalidHashError):
        ok = False
    if ok and user is not None and _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    actor = audit.Actor.staff(user) if user else audit.Actor.public(email)
    audit.record(
        session,
        actor,
        "staff.login" if ok else "staff.login_failed",
        "staff_user",
        user.id if user else None,
        {"client": client},
    )
    session.commit()
    log.info("staff sign-in %s for %s from %s", "succeeded" if ok else "failed", email, client)
    return user if ok else None


def start_session(session: Session, user: StaffUser) -> LoginSession:
    """A fresh random session id at every sign-in (no fixation)."""
    login = LoginSession(id=secrets.token_urlsafe(32), staff_user_id=user.id)
    user.last_login_at = utcnow()
    session.add(login)
    session.commit()
    return login


def end_session(session: Session, login_session_id: str) -> None:
    login = session.get(LoginSession, login_session_id)
    if login is not None and login.ended_at is None:
        login.ended_at = utcnow()
        audit.record(
            session,
            audit.Actor.staff(login.staff_user),
            "staff.logout",
            "staff_user",
            login.staff_user_id,
        )
        session.commit()


def find_live_session(
    session: Session,
    login_session_id: str,
    idle: timedelta,
    max_age: timedelta,
    now: datetime | None = None,
) -> LoginSession | None:
    """The sign-in behind a cookie, if it was not ended, idled out, outlived or deactivated."""
    now = now or utcnow()
    login = session.get(LoginSession, login_session_id)
    if login is None or login.ended_at is not None or not login.staff_user.active:
        return None
    if now - login.last_seen_at > idle or now - login.created_at > max_age:
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
        idle=timedelta(minutes=config["STAFF_IDLE_MINUTES"]),
        max_age=timedelta(hours=config["STAFF_SESSION_HOURS"]),
    )


def set_active(session: Session, user_id: int, by: StaffUser, active: bool) -> StaffUser:
    """Deactivating ends every session at its next request (the loader checks `active`)."""
    user = session.get(StaffUser, user_id)
    if user is None:
        raise LookupError("no such staff member")
    user.active = active
    audit.record(
        session,
        audit.Actor.staff(by),
        "staff.activated" if active else "staff.deactivated",
        "staff_user",
        user.id,
    )
    session.commit()
    return user


def reset_password(session: Session, user_id: int, by: StaffUser, password: str) -> StaffUser:
    user = session.get(StaffUser, user_id)
    if user is None:
        raise LookupError("no such staff member")
    user.password_hash = hash_password(password)
    for login in session.scalars(
        select(LoginSession).where(
            LoginSession.staff_user_id == user.id, LoginSession.ended_at.is_(None)
        )
    ):
        login.ended_at = utcnow()
    audit.record(session, audit.Actor.staff(by), "staff.password_reset", "staff_user", user.id)
    session.commit()
    return user
