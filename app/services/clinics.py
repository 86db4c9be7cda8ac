"""Clinic onboarding: application, email verification, review, credential lifecycle."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import ColumnElement, and_, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from app.models import (
    Clinic,
    ClinicCredential,
    ClinicLanguage,
    ClinicStatus,
    CredentialKind,
    Offering,
    Procedure,
    StaffUser,
)
from app.models.base import utcnow
from app.services import audit, clinic_accounts
from app.services.email_delivery import queue_email

LIVE_STATUSES = (ClinicStatus.PENDING, ClinicStatus.APPROVED, ClinicStatus.SUSPENDED)


class ClinicEmailTaken(Exception):
    """A pending, approved or suspended clinic already uses this address."""


class ClinicRegistrationTaken(Exception):
    """A pending, approved or suspended clinic already has this business registration
    number: one business, one listing."""


class InvalidTransition(Exception):
    """The clinic is not in a state this decision applies to."""


class ApprovalRefused(Exception):
    """The clinic may not be listed until staff or the clinic resolve this."""


class EmailNotVerified(ApprovalRefused):
    """The clinic has not followed the link in its verification email: leads and their
    deadlines would go to an address nobody has shown they read."""


class RegistrationNumberListed(ApprovalRefused):
    """Another approved or suspended clinic has the same business registration number."""


@dataclass(frozen=True)
class ClinicApplication:
    clinic_name: str
    contact_name: str
    email: str
    phone: str
    website: str | None
    address: str
    district: str
    city: str
    registration_number: str
    license_number: str
    languages: list[str]
    procedures: list[str]
    accreditations: list[str]
    description: str
    weekly_capacity: int = 10


def email_in_use(session: Session, email: str) -> bool:
    return (
        session.scalar(
            select(Clinic.id).where(Clinic.email == email, Clinic.status.in_(LIVE_STATUSES))
        )
        is not None
    )


def registration_in_use(
    session: Session,
    number: str,
    statuses: tuple[ClinicStatus, ...] = LIVE_STATUSES,
    excluding: int | None = None,
) -> bool:
    """Whether another clinic in `statuses` has this registration number (10 digits, as
    the form stores it); a rejected clinic's number is free to apply again."""
    query = select(Clinic.id).where(
        Clinic.registration_number == number, Clinic.status.in_(statuses)
    )
    if excluding is not None:
        query = query.where(Clinic.id != excluding)
    return session.scalar(query.limit(1)) is not None


def approval_obstacle(session: Session, clinic: Clinic) -> ApprovalRefused | None:
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


def _slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:100] or "clinic"


# Paths under /clinics/ that a clinic's slug must not shadow.
RESERVED_SLUGS = {"join", "verify"}


def _unique_slug(session: Session, name: str) -> str:
    base = _slugify(name)
    if base in RESERVED_SLUGS:
        base = f"{base}-clinic"
    taken = set(session.scalars(select(Clinic.slug).where(Clinic.slug.startswith(base))))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def submit_application(
    session: Session, application: ClinicApplication, staff_email: str
) -> Clinic:
    """Store a pending clinic and queue the verification email and the notice to
    `staff_email`, in one commit."""
    if email_in_use(session, application.email):
        raise ClinicEmailTaken(application.email)
    if registration_in_use(session, application.registration_number):
        raise ClinicRegistrationTaken(application.registration_number)
    procedures = session.scalars(
        select(Procedure).where(Procedure.slug.in_(application.procedures))
    ).all()
    clinic = Clinic(
        slug=_unique_slug(session, application.clinic_name),
        name=application.clinic_name,
        contact_name=application.contact_name,
        email=application.email,
        phone=application.phone,
        website=application.website,
        address=application.address,
        district=application.district,
        city=application.city,
        registration_number=application.registration_number,
        description=application.description,
        weekly_capacity=application.weekly_capacity,
        status=ClinicStatus.PENDING,
        languages=[ClinicLanguage(language=code) for code in application.languages],
        offerings=[Offering(procedure=p) for p in procedures],
        credentials=[
            ClinicCredential(
                kind=CredentialKind.LICENCE,
                code=CredentialKind.LICENCE.value,
                reference=application.license_number,
            ),
            *(
                ClinicCredential(kind=CredentialKind.ACCREDITATION, code=code)
                for code in application.accreditations
            ),
        ],
    )
    session.add(clinic)
    clinic_accounts.add_primary_user(session, clinic)
    try:
        session.flush()
    except IntegrityError as exc:
        # Two applications with one address raced past the check above.
        session.rollback()
        raise ClinicEmailTaken(application.email) from exc
    queue_email(
        session,
        key=f"clinic-verify:{clinic.id}:{clinic.email}",
        recipient=clinic.email,
        template="clinic_verify",
        context={"clinic_id": clinic.id},
    )
    queue_email(
        session,
        key=f"staff-new-clinic:{clinic.id}",
        recipient=staff_email,
        template="staff_new_clinic",
        context={"clinic_id": clinic.id},
    )
    audit.record(
        session,
        audit.Actor.public(clinic.email),
        "clinic.applied",
        "clinic",
        clinic.id,
        {"name": clinic.name, "procedures": application.procedures},
    )
    session.commit()
    return clinic


def verify_email(session: Session, clinic_id: int, email: str) -> Clinic | None:
    """Mark the address verified if the link still matches the clinic's address."""
    clinic = session.get(Clinic, clinic_id)
    if clinic is None or clinic.email != email:
        return None
    if clinic.email_verified_at is None:
        clinic.email_verified_at = utcnow()
        audit.record(
            session, audit.Actor.public(email), "clinic.email_verified", "clinic", clinic.id
        )
        session.commit()
    return clinic


def _decide(
    session: Session,
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
        clinic_accounts.deactivate_all(session, clinic.id)
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
        )
    audit.record(
        session,
        audit.Actor.staff(staff),
        f"clinic.{new_status.value}",
        "clinic",
        clinic.id,
        {"status": [old_status.value, new_status.value], "reason": reason},
    )
    session.commit()
    return clinic


def approve(session: Session, clinic_id: int, staff_user_id: int) -> Clinic:
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


def reject(session: Session, clinic_id: int, staff_user_id: int, reason: str) -> Clinic:
    return _decide(
        session,
        clinic_id,
        staff_user_id,
        (ClinicStatus.PENDING,),
        ClinicStatus.REJECTED,
        reason,
        "clinic_rejected",
    )


def suspend(session: Session, clinic_id: int, staff_user_id: int, reason: str) -> Clinic:
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


def set_credential(
    session: Session,
    clinic_id: int,
    staff_user_id: int,
    code: str,
    reference: str | None,
    expires_on: date | None,
) -> ClinicCredential:
    """Create or edit a licence, insurance or accreditation record during review."""
    clinic = session.get(Clinic, clinic_id)
    staff = session.get(StaffUser, staff_user_id)
    if clinic is None or staff is None:
        raise LookupError("no such clinic or staff member")
    kind = (
        CredentialKind(code)
        if code in (CredentialKind.LICENCE, CredentialKind.INSURANCE)
        else CredentialKind.ACCREDITATION
    )
    credential = next((c for c in clinic.credentials if c.code == code), None)
    before = (
        {"reference": credential.reference, "expires_on": _iso(credential.expires_on)}
        if credential
        else {}
    )
    if credential is None:
        credential = ClinicCredential(clinic=clinic, kind=kind, code=code)
        session.add(credential)
    credential.reference = reference
    credential.expires_on = expires_on
    session.flush()
    audit.record(
        session,
        audit.Actor.staff(staff),
        "clinic.credential_set",
        "clinic",
        clinic.id,
        {
            "credential": code,
            "before": before,
            "after": {"reference": reference, "expires_on": _iso(expires_on)},
        },
    )
    session.commit()
    return credential


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def remind_expiring_credentials(session: Session, today: date, days_ahead: int) -> int:
    """Email each approved clinic once per credential expiry date, `days_ahead` before it.

    `reminded_for` remembers the date reminded about, and the email's idempotency key holds
    it too, so however often this runs, one expiry date earns one email.
    """
    due = session.scalars(
        select(ClinicCredential)
        .join(Clinic)
        .where(
            Clinic.status == ClinicStatus.APPROVED,
            ClinicCredential.expires_on.is_not(None),
            ClinicCredential.expires_on >= today,
            ClinicCredential.expires_on <= today + timedelta(days=days_ahead),
            (ClinicCredential.reminded_for.is_(None))
            | (ClinicCredential.reminded_for != ClinicCredential.expires_on),
        )
        .options(selectinload(ClinicCredential.clinic))
        .with_for_update(skip_locked=True, of=ClinicCredential)
    ).all()
    for credential in due:
        expires = credential.expires_on.isoformat()  # type: ignore[union-attr]
        queue_email(
            session,
            key=f"credential-expiring:{credential.id}:{expires}",
            recipient=credential.clinic.email,
            template="credential_expiring",
            context={"credential_id": credential.id, "expires_on": expires},
        )
        credential.reminded_for = credential.expires_on
        audit.record(
            session,
            audit.Actor.system("credential reminders"),
            "clinic.credential_reminder",
            "clinic",
            credential.clinic_id,
            {"credential": credential.code, "expires_on": expires},
        )
    session.commit()
    return len(due)


def has_lapsed_credential(today: date) -> ColumnElement[bool]:
    """True for a clinic whose licence or insurance expired before `today` (a credential is
    good through its expiry date).

    The one definition of "lapsed": routing sends such a clinic no leads, and the public
    directory, its profile and the inquiry form do not offer it to patients.
    """
    return exists().where(
        ClinicCredential.clinic_id == Clinic.id,
        ClinicCredential.kind.in_([CredentialKind.LICENCE, CredentialKind.INSURANCE]),
        ClinicCredential.expires_on < today,
    )


def _listed(today: date) -> ColumnElement[bool]:
    """Shown to patients and open to their inquiries: approved, nothing lapsed."""
    return and_(Clinic.status == ClinicStatus.APPROVED, ~has_lapsed_credential(today))


def public_clinics(session: Session, today: date) -> list[Clinic]:
    """The public directory: approved clinics whose licence and insurance are in date."""
    return list(
        session.scalars(
            select(Clinic)
            .where(_listed(today))
            .order_by(Clinic.name)
            .options(
                selectinload(Clinic.languages),
                selectinload(Clinic.credentials),
                selectinload(Clinic.offerings).selectinload(Offering.procedure),
            )
        )
    )


def public_clinic(session: Session, slug: str, today: date) -> Clinic | None:
    """A listed clinic's profile, or None: its page, inquiry page and the inquiry form's
    `clinic` field all ask here, so they agree on which clinics take inquiries."""
    return session.scalar(select(Clinic).where(Clinic.slug == slug, _listed(today)))


def current_accreditations(clinic: Clinic, today: date) -> list[ClinicCredential]:
    """The accreditations a patient may be shown: an expired one is no longer a claim we
    can make for the clinic."""
    return [c for c in clinic.accreditations if not c.is_lapsed(today)]
