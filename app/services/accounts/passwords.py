"""Password hashing (argon2id) and the sign-in check, the same cost for an unknown address."""

from __future__ import annotations

import logging
import secrets
from typing import cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from app.models import PORTAL_STATUSES, ClinicUser, StaffUser
from app.models.base import DbSession
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


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


Account = StaffUser | ClinicUser


def actor_of(account: Account) -> audit.Actor:
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
    session: DbSession, model: type[Account], email: str, password: str, client: str
) -> Account | None:
    """Check a sign-in; every attempt, good or bad, is an audit event.

    An unknown address costs the same hash check as a known one, so timing does not tell
    which addresses have accounts.
    """
    email = email.strip().lower()
    query = select(model).where(model.email == email)
    if model is ClinicUser:
        query = query.where(ClinicUser.active.is_(True))
    user = cast(Account | None, session.scalar(query))
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
        actor_of(user) if user is not None else audit.Actor.public(email),
        f"{kind}.login" if ok else f"{kind}.login_failed",
        **{
            "staff_user" if model is StaffUser else "clinic_user": user.id
            if user is not None
            else None
        },
        changes={"client": client},
    )
    session.commit()
    log.info("%s sign-in %s for %s from %s", kind, "succeeded" if ok else "failed", email, client)
    return user if ok else None
