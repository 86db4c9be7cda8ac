"""Clinic users: portal accounts, their passwords, and colleagues."""

from __future__ import annotations

from sqlalchemy import select

from app.models import Clinic, ClinicUser
from app.models.base import DbSession, utcnow
from app.services import audit
from app.services.accounts.password_links import user_for_password_token
from app.services.accounts.passwords import hash_password
from app.services.accounts.sessions import end_all_sessions
from app.services.mail.delivery import queue_email


class AccountRefused(ValueError):
    """The change does not apply (the address has an account, it is the user's own)."""


def set_password(session: DbSession, token: str, password: str, max_age: int) -> ClinicUser:
    user = user_for_password_token(session, token, max_age)
    user.password_hash = hash_password(password)
    user.password_set_at = utcnow()
    end_all_sessions(session, user)
    audit.record(
        session, audit.Actor.clinic_user(user), "clinic_user.password_set", clinic_user=user.id
    )
    session.commit()
    return user


def add_primary_user(session: DbSession, clinic: Clinic) -> ClinicUser:
    """The applicant's own account; its password is set from the verification email."""
    user = ClinicUser(clinic=clinic, email=clinic.email.lower(), active=True)
    session.add(user)
    return user


def active_user(session: DbSession, email: str) -> ClinicUser | None:
    return session.scalar(
        select(ClinicUser).where(
            ClinicUser.email == email.strip().lower(), ClinicUser.active.is_(True)
        )
    )


def active_colleagues(session: DbSession, clinic_id: int) -> list[ClinicUser]:
    """A clinic's accounts that can sign in, by email: its team page, and what closes when
    the clinic is rejected."""
    return list(
        session.scalars(
            select(ClinicUser)
            .where(ClinicUser.clinic_id == clinic_id, ClinicUser.active.is_(True))
            .order_by(ClinicUser.email)
        )
    )


def _send_password_link(session: DbSession, user: ClinicUser, why: str) -> None:
    queue_email(
        session,
        key=f"clinic-password:{user.id}:{why}:{utcnow().isoformat()}",
        recipient=user.email,
        template="clinic_password",
        context={"user_id": user.id, "why": why},
        language=user.language or user.clinic.language,
    )


def request_password_link(session: DbSession, email: str) -> None:
    """Forgotten password: a link goes to the address if it has an account; the page says
    the same either way, so it does not tell who has one."""
    user = active_user(session, email)
    if user is None:
        return
    _send_password_link(session, user, "reset")
    audit.record(
        session,
        audit.Actor.public(user.email),
        "clinic_user.password_link_requested",
        clinic_user=user.id,
    )
    session.commit()


def invite_colleague(session: DbSession, by_user_id: int, email: str) -> ClinicUser:
    inviter = session.get(ClinicUser, by_user_id)
    if inviter is None:
        raise LookupError("no such clinic user")
    email = email.strip().lower()
    if active_user(session, email) is not None:
        raise AccountRefused("that address already has a portal account")
    user = session.scalar(
        select(ClinicUser).where(
            ClinicUser.clinic_id == inviter.clinic_id, ClinicUser.email == email
        )
    )
    if user is None:
        user = ClinicUser(clinic_id=inviter.clinic_id, email=email)
        session.add(user)
    user.active = True
    user.password_hash = None
    user.password_set_at = None
    session.flush()
    _send_password_link(session, user, "invite")
    audit.record(
        session,
        audit.Actor.clinic_user(inviter),
        "clinic_user.invited",
        clinic_user=user.id,
        changes={"email": email, "clinic_id": inviter.clinic_id},
    )
    session.commit()
    return user


def deactivate_colleague(session: DbSession, by_user_id: int, user_id: int) -> ClinicUser:
    """Signed out at once; only a colleague of the same clinic may do it, never oneself."""
    by = session.get(ClinicUser, by_user_id)
    user = session.get(ClinicUser, user_id)
    if by is None or user is None or user.clinic_id != by.clinic_id:
        raise LookupError("no such colleague")
    if user.id == by.id:
        raise AccountRefused("you cannot remove your own account")
    user.active = False
    end_all_sessions(session, user)
    audit.record(
        session, audit.Actor.clinic_user(by), "clinic_user.deactivated", clinic_user=user.id
    )
    session.commit()
    return user


def deactivate_all(session: DbSession, clinic_id: int) -> None:
    """A rejected clinic's accounts close, freeing the address for a new application."""
    for user in active_colleagues(session, clinic_id):
        user.active = False
        end_all_sessions(session, user)


def set_language(session: DbSession, user_id: int, language: str | None) -> ClinicUser:
    """The portal in this user's language; None follows the clinic's."""
    user = session.get(ClinicUser, user_id)
    if user is None:
        raise LookupError("no such clinic user")
    before = user.language
    user.language = language
    audit.record(
        session,
        audit.Actor.clinic_user(user),
        "clinic_user.language_changed",
        clinic_user=user.id,
        changes={"language": [before, language]},
    )
    session.commit()
    return user
