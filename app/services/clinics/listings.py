"""A clinic editing its own public listing from the portal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.models import Clinic, ClinicLanguage, ClinicUser, Offering, Procedure
from app.models.base import DbSession
from app.services import audit


@dataclass(frozen=True)
class OfferedProcedure:
    procedure: str  # catalogue slug
    price_min_usd: int | None
    price_max_usd: int | None
    notes: str


@dataclass(frozen=True)
class Listing:
    description: str
    weekly_capacity: int
    languages: list[str]
    offerings: list[OfferedProcedure]
    language: str


def clinic_with_offerings(session: DbSession, clinic_id: int) -> Clinic | None:
    """The clinic with each offering's procedure loaded with it: its listing as the portal
    edits it and as staff review it, without a query per row."""
    return session.get(
        Clinic, clinic_id, options=[selectinload(Clinic.offerings).selectinload(Offering.procedure)]
    )


def listing_catalogue(session: DbSession) -> list[Procedure]:
    """Every catalogue procedure, by category then name: the listing page has a row for each,
    offered or not, so a clinic can add one it did not list when it applied."""
    return list(session.scalars(select(Procedure).order_by(Procedure.category, Procedure.name)))


def _snapshot(clinic: Clinic) -> dict[str, Any]:
    return {
        "description": clinic.description,
        "weekly_capacity": clinic.weekly_capacity,
        "languages": sorted(clinic.language_codes),
        "language": clinic.language,
        "offerings": {
            o.procedure.slug: [o.price_min_usd, o.price_max_usd, o.notes]
            for o in sorted(clinic.offerings, key=lambda o: o.procedure.slug)
        },
    }


def update_listing(session: DbSession, user_id: int, listing: Listing) -> Clinic:
    """Replace the listing's editable parts; the audit event keeps what changed, before and
    after. Slugs outside the catalogue are ignored (the form offers only catalogue rows)."""
    user = session.get(ClinicUser, user_id)
    if user is None:
        raise LookupError("no such clinic user")
    clinic = session.get(Clinic, user.clinic_id, with_for_update=True, populate_existing=True)
    assert clinic is not None
    before = _snapshot(clinic)
    procedures = {
        p.slug: p
        for p in session.scalars(
            select(Procedure).where(Procedure.slug.in_([o.procedure for o in listing.offerings]))
        )
    }
    current = {o.procedure.slug: o for o in clinic.offerings}
    wanted = {o.procedure: o for o in listing.offerings if o.procedure in procedures}
    for slug, offering in current.items():
        if slug not in wanted:
            clinic.offerings.remove(offering)
    for slug, change in wanted.items():
        offering = current.get(slug) or Offering(procedure=procedures[slug])
        offering.price_min_usd = change.price_min_usd
        offering.price_max_usd = change.price_max_usd
        offering.notes = change.notes
        if slug not in current:
            clinic.offerings.append(offering)
    have = {row.language: row for row in clinic.languages}
    for code, row in have.items():
        if code not in listing.languages:
            clinic.languages.remove(row)
    for code in listing.languages:
        if code not in have:
            clinic.languages.append(ClinicLanguage(language=code))
    clinic.description = listing.description
    clinic.language = listing.language
    clinic.weekly_capacity = listing.weekly_capacity
    session.flush()
    after = _snapshot(clinic)
    changed = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
    if changed:
        audit.record(
            session,
            audit.Actor.clinic_user(user),
            "clinic.listing_edited",
            clinic=clinic.id,
            changes=changed,
        )
    session.commit()
    return clinic
