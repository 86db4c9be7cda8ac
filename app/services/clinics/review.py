"""Staff decisions on a clinic: approve, reject, suspend, each audited and emailed."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.models import (
    Clinic,
    ClinicStatus,
    StaffUser,
)
from app.models.base import DbSession, utcnow
from app.services import audit
from app.services.accounts import clinic_users
from app.services.clinics.onboarding import registration_in_use
from app.services.mail.delivery import queue_email


class InvalidTransition(Exception):
    """The clinic is not in a state this decision applies to."""


class ApprovalRefused(Exception):
    """The clinic may not be listed until staff or the clinic resolve this."""


class EmailNotVerified(ApprovalRefused):
    """The clinic has not followed the link in its verification email: leads and their
    deadlines would go to an address nobody has shown they read."""


class RegistrationNumberListed(ApprovalRefused):
    """Another approved or suspended clinic has the same business registration number."""


def clinics_in_status(session: DbSession, status: ClinicStatus) -> list[Clinic]:
    """The review list's tab: newest application first, with the credentials and languages
    the list shows loaded alongside."""
    return list(
        session.scalars(
            select(Clinic)
            .where(Clinic.status == status)
            .order_by(Clinic.created_at.desc())
            .options(selectinload(Clinic.credentials), selectinload(Clinic.languages))
        )
    )


def count_by_status(session: DbSession) -> dict[ClinicStatus, int]:
    """How many clinics are in each status, every status present (zero if none)."""
    query = select(Clinic.status, func.count()).group_by(Clinic.status)
    counts = {status: n for status, n in session.execute(query)}
    return {status: counts.get(status, 0) for status in ClinicStatus}


def approval_obstacle(session: DbSession, clinic: Clinic) -> ApprovalRefused | None:
    """Why the clinic cannot be listed now, or None; the review page asks before offering
    approval, and `approve` asks again under the clinic's row lock."""
    if clinic.email_verified_at is None:
        return EmailNotVerified(clinic.email)
    if registration_in_use(
        session,
        clinic.registration_number,
        (ClinicStatus.APPROVED, ClinicStatus.SUSPENDED),
        excluding=clinic.id,
    ):
        return RegistrationNumberListed(clinic.registration_number)
    return None


def _decide(
    session: DbSession,
    clinic_id: int,
    staff_user_id: int,
    allowed_from: tuple[ClinicStatus, ...],
    new_status: ClinicStatus,
    reason: str | None,
    email_template: str | None,
    reason_in_email: bool = False,
) -> Clinic:
    clinic = session.get(Clinic, clinic_id, with_for_update=True)
    staff = session.get(StaffUser, staff_user_id)
    if clinic is None or staff is None:
        raise LookupError("no such clinic or staff member")
    if clinic.status not in allowed_from:
        raise InvalidTransition(f"a {clinic.status} clinic cannot become {new_status}")
    if new_status is ClinicStatus.APPROVED:
        obstacle = approval_obstacle(session, clinic)
        if obstacle is not None:
            raise obstacle
    old_status = clinic.status
    clinic.status = new_status
    clinic.status_reason = reason
    clinic.reviewed_at = utcnow()
    clinic.reviewed_by_id = staff.id
    if new_status is ClinicStatus.REJECTED:
        clinic_users.deactivate_all(session, clinic.id)
    if email_template:
        queue_email(
            session,
            key=f"{email_template}:{clinic.id}:{clinic.reviewed_at.isoformat()}",
            recipient=clinic.email,
            template=email_template,
            # The reason given for this decision, which a later decision may overwrite on
            # the clinic before the email is rendered.
            context={"clinic_id": clinic.id, "reason": reason}
            if reason_in_email
            else {"clinic_id": clinic.id},
            language=clinic.language,
        )
    audit.record(
        session,
        audit.Actor.staff(staff),
        f"clinic.{new_status.value}",
        clinic=clinic.id,
        changes={"status": [old_status.value, new_status.value], "reason": reason},
    )
    session.commit()
    return clinic


def approve(session: DbSession, clinic_id: int, staff_user_id: int) -> Clinic:
    """List the clinic (or list it again after a suspension). Refused with an
    `ApprovalRefused` while its email is unverified or another live listing has its
    registration number."""
    return _decide(
        session,
        clinic_id,
        staff_user_id,
        (ClinicStatus.PENDING, ClinicStatus.SUSPENDED),
        ClinicStatus.APPROVED,
        None,
        "clinic_approved",
    )


def reject(session: DbSession, clinic_id: int, staff_user_id: int, reason: str) -> Clinic:
    return _decide(
        session,
        clinic_id,
        staff_user_id,
        (ClinicStatus.PENDING,),
        ClinicStatus.REJECTED,
        reason,
        "clinic_rejected",
    )


def suspend(session: DbSession, clinic_id: int, staff_user_id: int, reason: str) -> Clinic:
    """Take an approved clinic out of the directory and routing; the clinic is emailed the
    reason (the console's form promises it), in the same commit."""
    return _decide(
        session,
        clinic_id,
        staff_user_id,
        (ClinicStatus.APPROVED,),
        ClinicStatus.SUSPENDED,
        reason,
        "clinic_suspended",
        reason_in_email=True,
    )
