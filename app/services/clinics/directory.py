"""The clinics patients are shown and may choose (approved, nothing lapsed), and the wider
list staff choose from."""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import selectinload

from app.models import (
    Clinic,
    ClinicCredential,
    ClinicStatus,
    Offering,
)
from app.models.base import DbSession
from app.services.clinics.credentials import has_lapsed_credential


def _listed(today: date) -> ColumnElement[bool]:
    """Shown to patients and open to their inquiries: approved, nothing lapsed."""
    return and_(Clinic.status == ClinicStatus.APPROVED, ~has_lapsed_credential(today))


def public_clinics(session: DbSession, today: date) -> list[Clinic]:
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


def public_clinic(session: DbSession, slug: str, today: date) -> Clinic | None:
    """A listed clinic's profile, or None: its page, inquiry page and the inquiry form's
    `clinic` field all ask here, so they agree on which clinics take inquiries."""
    return session.scalar(select(Clinic).where(Clinic.slug == slug, _listed(today)))


def current_accreditations(clinic: Clinic, today: date) -> list[ClinicCredential]:
    """The accreditations a patient may be shown: an expired one is no longer a claim we
    can make for the clinic."""
    return [c for c in clinic.accreditations if not c.is_lapsed(today)]


def approved_clinics(session: DbSession) -> list[Clinic]:
    """Every approved clinic by name, a lapsed credential or not: what staff filter leads by
    and may send a lead to (re-routing still checks each clinic's eligibility)."""
    return list(
        session.scalars(
            select(Clinic).where(Clinic.status == ClinicStatus.APPROVED).order_by(Clinic.name)
        )
    )
