"""Password links for clinic users, single use without a table of used tokens.

A link carries a fingerprint of the password hash it was issued against, so setting a
password (which changes the hash) retires every link issued before.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import bindparam, select

from app.models import ClinicUser
from app.models.base import DbSession
from app.services.links import InvalidLink, sign, unsign

PURPOSE = "clinic-password"


def _fingerprint(user: ClinicUser) -> str:
    return hashlib.sha256((user.password_hash or "unset").encode()).hexdigest()[:16]


def password_token(user: ClinicUser) -> str:
    return sign(PURPOSE, {"user": user.id, "fp": _fingerprint(user)})


def user_for_password_token(session: DbSession, token: str, max_age: int) -> ClinicUser:
    """The user a password link is for, or `InvalidLink` (expired, used, or not ours)."""
    payload = unsign(PURPOSE, token, max_age=max_age)
    user = session.get(ClinicUser, payload.get("user"))
    if user is None or not user.active:
        raise InvalidLink(expired=False)
    if payload.get("fp") != _fingerprint(user):
        raise InvalidLink(expired=False, used=True)
    return user


# Built once: every clinic notice of every routed lead looks it up.
_PRIMARY_USER = select(ClinicUser).where(
    ClinicUser.clinic_id == bindparam("clinic_id"),
    ClinicUser.email == bindparam("email"),
    ClinicUser.active.is_(True),
)


def primary_user(session: DbSession, clinic_id: int, email: str) -> ClinicUser | None:
    """The account behind the clinic's own address, which its emails go to."""
    return session.scalar(_PRIMARY_USER, {"clinic_id": clinic_id, "email": email.lower()})
