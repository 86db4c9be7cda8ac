"""Licences, insurance and accreditations: what lapses, and the reminder before it does."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.orm import selectinload

from app.models import (
    Clinic,
    ClinicCredential,
    ClinicStatus,
    CredentialKind,
    StaffUser,
)
from app.models.base import DbSession
from app.services import audit
from app.services.mail.delivery import queue_email


def set_credential(
    session: DbSession,
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
        clinic=clinic.id,
        changes={
            "credential": code,
            "before": before,
            "after": {"reference": reference, "expires_on": _iso(expires_on)},
        },
    )
    session.commit()
    return credential


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def remind_expiring_credentials(session: DbSession, today: date, days_ahead: int) -> int:
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
        assert credential.expires_on is not None  # the query asked for a date
        expires = credential.expires_on.isoformat()
        queue_email(
            session,
            key=f"credential-expiring:{credential.id}:{expires}",
            recipient=credential.clinic.email,
            template="credential_expiring",
            context={"credential_id": credential.id, "expires_on": expires},
            language=credential.clinic.language,
        )
        credential.reminded_for = credential.expires_on
        audit.record(
            session,
            audit.Actor.system("credential reminders"),
            "clinic.credential_reminder",
            clinic=credential.clinic_id,
            changes={"credential": credential.code, "expires_on": expires},
        )
    session.commit()
    return len(due)


def has_lapsed_credential(today: date | ColumnElement[date]) -> ColumnElement[bool]:
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
