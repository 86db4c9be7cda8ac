"""Choosing the clinics a lead goes to (DESIGN §8), in one ranked query.

Eligible: approved, offers the procedure, licence and insurance not lapsed, weekly capacity
left, not already given this lead. Ranked by: the clinic the patient chose, speaks the
patient's language, price fits the budget, remaining weekly capacity, then fairness (fewest
leads in the last 30 days), then clinic id so equal scores always break the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, exists, func, literal, select, text
from sqlalchemy.orm import Session

from app.models import (
    Assignment,
    Clinic,
    ClinicCredential,
    ClinicLanguage,
    ClinicStatus,
    CredentialKind,
    Lead,
    Offering,
)

CAPACITY_WINDOW = timedelta(days=7)
FAIRNESS_WINDOW = timedelta(days=30)
# Any fixed number: the key of the PostgreSQL advisory lock that routing holds while it
# counts capacity and writes assignments.
ROUTING_LOCK_KEY = 727_100_001


@dataclass(frozen=True)
class RankedClinic:
    clinic_id: int
    chosen: bool
    speaks_language: bool
    budget_fits: bool
    remaining_capacity: int
    recent_leads: int

    def breakdown(self, rank: int) -> dict[str, Any]:
        return {
            "rank": rank,
            "chosen_by_patient": self.chosen,
            "speaks_language": self.speaks_language,
            "budget_fits": self.budget_fits,
            "remaining_weekly_capacity": self.remaining_capacity,
            "leads_last_30_days": self.recent_leads,
        }


def _recent_load(now: datetime) -> Any:
    """Each clinic's assignments in the last 7 and 30 days, in one grouped pass.

    One scan of a month of assignments costs far less than two correlated counts per
    candidate clinic (measured in bench/routing_alone.py: 10,000 candidates).
    """
    return (
        select(
            Assignment.clinic_id,
            func.count().filter(Assignment.created_at >= now - CAPACITY_WINDOW).label("week"),
            func.count().label("month"),
        )
        .where(Assignment.created_at >= now - FAIRNESS_WINDOW, Assignment.revoked_at.is_(None))
        .group_by(Assignment.clinic_id)
        .subquery("recent_load")
    )


def rank_clinics(
    session: Session, lead: Lead, limit: int, today: date, now: datetime
) -> list[RankedClinic]:
    """The best `limit` eligible clinics for the lead, best first."""
    load = _recent_load(now)
    week = func.coalesce(load.c.week, 0)
    month = func.coalesce(load.c.month, 0)
    remaining = Clinic.weekly_capacity - week
    chosen = (
        case((Clinic.id == lead.chosen_clinic_id, 1), else_=0)
        if lead.chosen_clinic_id
        else literal(0)
    )
    speaks = case(
        (
            exists().where(
                ClinicLanguage.clinic_id == Clinic.id, ClinicLanguage.language == lead.language
            ),
            1,
        ),
        else_=0,
    )
    if lead.budget_usd is None:
        fits: Any = literal(1)
    else:
        fits = case(
            (Offering.price_min_usd.is_(None), 1),
            (Offering.price_min_usd <= lead.budget_usd, 1),
            else_=0,
        )
    lapsed = exists().where(
        ClinicCredential.clinic_id == Clinic.id,
        ClinicCredential.kind.in_([CredentialKind.LICENCE, CredentialKind.INSURANCE]),
        ClinicCredential.expires_on < today,
    )
    already = exists().where(Assignment.lead_id == lead.id, Assignment.clinic_id == Clinic.id)
    query = (
        select(
            Clinic.id,
            chosen.label("chosen"),
            speaks.label("speaks"),
            fits.label("fits"),
            remaining.label("remaining"),
            month.label("recent"),
        )
        .join(
            Offering,
            and_(Offering.clinic_id == Clinic.id, Offering.procedure_id == lead.procedure_id),
        )
        .outerjoin(load, load.c.clinic_id == Clinic.id)
        .where(Clinic.status == ClinicStatus.APPROVED, ~lapsed, ~already, remaining > 0)
        .order_by(
            chosen.desc(), speaks.desc(), fits.desc(), remaining.desc(), month.asc(), Clinic.id
        )
        .limit(limit)
    )
    return [
        RankedClinic(
            clinic_id=row.id,
            chosen=bool(row.chosen),
            speaks_language=bool(row.speaks),
            budget_fits=bool(row.fits),
            remaining_capacity=int(row.remaining),
            recent_leads=int(row.recent),
        )
        for row in session.execute(query)
    ]


def lock_routing(session: Session) -> None:
    """Serialise the count-then-assign step across workers (PostgreSQL; SQLite has one writer).

    Ranking and inserting take a few milliseconds; one transaction-scoped lock makes capacity
    and fairness exact across every procedure, with no lock-ordering deadlocks. A wait longer
    than the lock timeout fails the attempt cleanly; the sweeper tries the lead again.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL lock_timeout = '5s'"))
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ROUTING_LOCK_KEY})


def assign(
    session: Session, lead: Lead, limit: int, today: date, now: datetime
) -> list[Assignment]:
    """Fill the lead up to `limit` clinics holding it (without committing); return the new
    assignments. A clinic that declined or let its deadline pass frees its place for the
    next best clinic that has not had the lead."""
    lock_routing(session)
    holding = len([a for a in lead.assignments if a.holds_lead])
    ranked = rank_clinics(session, lead, max(limit - holding, 0), today, now)
    # Loaded in one statement: the notices to these clinics need their addresses next.
    clinics = {
        clinic.id: clinic
        for clinic in session.scalars(
            select(Clinic).where(Clinic.id.in_([c.clinic_id for c in ranked]))
        )
    }
    created = []
    for offset, candidate in enumerate(ranked, start=len(lead.assignments) + 1):
        assignment = Assignment(
            lead=lead,
            clinic=clinics[candidate.clinic_id],
            rank=offset,
            score=candidate.breakdown(offset),
            created_at=now,
        )
        session.add(assignment)
        created.append(assignment)
    session.flush()
    return created
