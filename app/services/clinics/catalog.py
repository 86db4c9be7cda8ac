"""The procedure catalogue: loading and refreshing it, and reading it."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import force_locale
from sqlalchemy import select

from app.models import Procedure
from app.models.base import DbSession
from app.reference_data import PROCEDURES, procedure_synonyms


@dataclass(frozen=True)
class CatalogLoad:
    created: int
    updated: int


def load_catalog(session: DbSession) -> CatalogLoad:
    """Create or refresh every catalogue entry; running it again changes nothing."""
    existing = {p.slug: p for p in session.scalars(select(Procedure))}
    created = updated = 0
    for seed in PROCEDURES:
        # Stored in English, the source language; pages translate by slug.
        with force_locale("en"):
            values = {
                "name": str(seed.name),
                "category": seed.category,
                "synonyms": procedure_synonyms(seed.slug, []),
            }
        procedure = existing.get(seed.slug)
        if procedure is None:
            session.add(Procedure(slug=seed.slug, **values))
            created += 1
        elif any(getattr(procedure, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(procedure, key, value)
            updated += 1
    session.commit()
    return CatalogLoad(created=created, updated=updated)


def procedures_by_name(session: DbSession) -> list[Procedure]:
    """The whole catalogue in alphabetical order, for a pick list."""
    return list(session.scalars(select(Procedure).order_by(Procedure.name)))
