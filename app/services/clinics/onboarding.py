"""Applying to be listed: the application, its uniqueness rules and email verification."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.models import (
    Clinic,
    ClinicCredential,
    ClinicLanguage,
    ClinicStatus,
    CredentialKind,
    Offering,
    Procedure,
)
from app.models.base import DbSession, utcnow
from app.services import audit
from app.services.accounts import clinic_users
from app.services.mail.delivery import queue_email

# Weights of the Korean business registration number's check digit (National Tax Service).
_BRN_WEIGHTS = (1, 3, 7, 1, 3, 7, 1, 3, 5)


def brn_check_digit(first_nine: str) -> int:
    digits = [int(d) for d in first_nine]
    total = sum(d * w for d, w in zip(digits, _BRN_WEIGHTS, strict=True))
    total += digits[8] * 5 // 10
    return (10 - total % 10) % 10


LIVE_STATUSES = (ClinicStatus.PENDING, ClinicStatus.APPROVED, ClinicStatus.SUSPENDED)


class ClinicEmailTaken(Exception):
    """A pending, approved or suspended clinic already uses this address."""


class ClinicRegistrationTaken(Exception):
    """A pending, approved or suspended clinic already has this business registration
    number: one business, one listing."""


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


def email_in_use(session: DbSession, email: str) -> bool:
    return (
        session.scalar(
            select(Clinic.id).where(Clinic.email == email, Clinic.status.in_(LIVE_STATUSES))
        )
        is not None
    )


def registration_in_use(
    session: DbSession,
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


def _slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:100] or "clinic"


# Paths under /clinics/ that a clinic's slug must not shadow.
RESERVED_SLUGS = {"join", "verify"}


def _unique_slug(session: DbSession, name: str) -> str:
    base = _slugify(name)
    if base in RESERVED_SLUGS:
        base = f"{base}-clinic"
    taken = set(session.scalars(select(Clinic.slug).where(Clinic.slug.startswith(base))))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def submit_application(
    session: DbSession, application: ClinicApplication, staff_email: str
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
    clinic_users.add_primary_user(session, clinic)
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
        language=clinic.language,
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
        clinic=clinic.id,
        changes={"name": clinic.name, "procedures": application.procedures},
    )
    session.commit()
    return clinic


def verify_email(session: DbSession, clinic_id: int, email: str) -> Clinic | None:
    """Mark the address verified if the link still matches the clinic's address."""
    clinic = session.get(Clinic, clinic_id)
    if clinic is None or clinic.email != email:
        return None
    if clinic.email_verified_at is None:
        clinic.email_verified_at = utcnow()
        audit.record(session, audit.Actor.public(email), "clinic.email_verified", clinic=clinic.id)
        session.commit()
    return clinic
