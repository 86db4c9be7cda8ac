"""Accounts (staff and clinic users): password hashing and server-side sign-in sessions."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import PORTAL_STATUSES, ClinicUser, LoginSession, StaffRole, StaffUser
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


@dataclass(frozen=True)
class SessionLimits:
    idle: timedelta
    max_age: timedelta


Account = StaffUser | ClinicUser


def _kind(account: Account) -> str:
    return "staff" if isinstance(account, StaffUser) else "clinic_user"


def _actor(account: Account) -> audit.Actor:
    if isinstance(account, StaffUser):
        return audit.Actor.staff(account)
    return audit.Actor.clinic_user(account)


def _may_sign_in(account: Account) -> bool:
    if isinstance(account, StaffUser):
        return account.active
    return (
        account.active
        and account.password_hash is not None
        and account.clinic.status in PORTAL_STATUSES
    )


def authenticate(
    session: Session, model: type[Account], email: str, password: str, client: str
) -> Account | None:
    """Check a sign-in; every attempt, good or bad, is an audit event.

    An unknown address costs the same hash check as a known one, so timing does not tell
    which addresses have accounts.
    """
    email = email.strip().lower()
    query = select(model).where(model.email == email)
    if model is ClinicUser:
        query = query.where(ClinicUser.active.is_(True))
    user = session.scalar(query)
    stored = user.password_hash if user is not None and user.password_hash else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
        ok = user is not None and stored != _DUMMY_HASH and _may_sign_in(user)
    except (VerificationError, InvalidHashError):
        ok = False
    if ok and user is not None and _hasher.check_needs_rehash(stored):
        user.password_hash = _hasher.hash(password)
    kind = "staff" if model is StaffUser else "clinic_user"
    audit.record(
        session,
        _actor(user) if user is not None else audit.Actor.public(email),
        f"{kind}.login" if ok else f"{kind}.login_failed",
        "staff_user" if model is StaffUser else "clinic_user",
        user.id if user is not None else None,
        {"client": client},
    )
    session.commit()
    log.info("%s sign-in %s for %s from %s", kind, "succeeded" if ok else "failed", email, client)
    return user if ok else None


def start_session(session: Session, account: Account) -> LoginSession:
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


def end_session(session: Session, login_session_id: str) -> None:
    login = session.get(LoginSession, login_session_id)
    if login is not None and login.ended_at is None:
        login.ended_at = utcnow()
        account = login.staff_user or login.clinic_user
        assert account is not None
        audit.record(
            session,
            _actor(account),
            f"{_kind(account)}.logout",
            "staff_user" if login.is_staff else "clinic_user",
            account.id,
        )
        session.commit()


def find_live_session(
    session: Session,
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


def end_all_sessions(session: Session, account: Account) -> None:
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
    end_all_sessions(session, user)
    audit.record(session, audit.Actor.staff(by), "staff.password_reset", "staff_user", user.id)
    session.commit()
    return user
