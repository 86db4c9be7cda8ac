"""Staff accounts: created by the CLI or an admin, deactivated, their passwords reset."""

from __future__ import annotations

from sqlalchemy import select

from app.models import StaffRole, StaffUser
from app.models.base import DbSession
from app.services import audit
from app.services.accounts.passwords import hash_password
from app.services.accounts.sessions import end_all_sessions


class StaffEmailTaken(ValueError):
    pass


def all_staff(session: DbSession) -> list[StaffUser]:
    """Every account, deactivated ones included, by email: the admins' accounts page."""
    return list(session.scalars(select(StaffUser).order_by(StaffUser.email)))


def active_staff(session: DbSession) -> list[StaffUser]:
    """Who a lead can be assigned to (and filtered by), by email."""
    return list(
        session.scalars(
            select(StaffUser).where(StaffUser.active.is_(True)).order_by(StaffUser.email)
        )
    )


def create_staff(
    session: DbSession, email: str, role: StaffRole, password: str, by: StaffUser | None = None
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
        staff_user=user.id,
        changes={"role": role.value},
    )
    session.commit()
    return user


def set_active(session: DbSession, user_id: int, by: StaffUser, active: bool) -> StaffUser:
    """Deactivating ends every session at its next request (the loader checks `active`)."""
    user = session.get(StaffUser, user_id)
    if user is None:
        raise LookupError("no such staff member")
    user.active = active
    audit.record(
        session,
        audit.Actor.staff(by),
        "staff.activated" if active else "staff.deactivated",
        staff_user=user.id,
    )
    session.commit()
    return user


def reset_password(session: DbSession, user_id: int, by: StaffUser, password: str) -> StaffUser:
    user = session.get(StaffUser, user_id)
    if user is None:
        raise LookupError("no such staff member")
    user.password_hash = hash_password(password)
    end_all_sessions(session, user)
    audit.record(session, audit.Actor.staff(by), "staff.password_reset", staff_user=user.id)
    session.commit()
    return user


def set_on_duty(session: DbSession, staff_id: int, on_duty: bool) -> None:
    """A staff member's own switch: rules give new leads only to those on duty."""
    staff = session.get(StaffUser, staff_id)
    if staff is None:
        raise LookupError("no such staff member")
    staff.on_duty = on_duty
    audit.record(
        session,
        audit.Actor.staff(staff),
        "staff.on_duty" if on_duty else "staff.off_duty",
        staff_user=staff.id,
    )
    session.commit()
