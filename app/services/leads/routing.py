"""Choosing the clinics a lead goes to: up to ROUTING_MAX_CLINICS that fit, explained.

Eligible: approved, offers the procedure, licence and insurance not lapsed, weekly capacity
left, not already given this lead. Ranked by: the clinic the patient chose, speaks the
patient's language, price fits the budget, remaining weekly capacity, then fairness (fewest
leads in the last 30 days), then clinic id so equal scores always break the same way.

Capacity and fairness read each clinic's running counts of its assignments in the last 7
and 30 days (`Clinic.week_leads`, `Clinic.month_leads`) instead of counting a month of
assignments per lead, a count that grows with the clinics (bench/README.md has the
figures). A new assignment adds to the counts in its own transaction; a
revoked one is recounted at once; beat recounts every clinic every few minutes to age out
the assignments that left the windows, so between recounts a clinic's capacity can only
look smaller than it is, never larger.

No lock is global. On PostgreSQL a routing locks the rows of the clinics it is about to
give the lead (`FOR NO KEY UPDATE ... SKIP LOCKED` in rank order), so it counts and assigns
them exactly, while another routing passes over a clinic held this moment to the next best
one instead of queueing behind it; only the clinic the patient chose is waited for, before
any other is held. Only when every eligible clinic is held does it wait, for all of them
in id order (as recounts and staff do), so waits never form a cycle.

Those locks are `FOR NO KEY UPDATE`, not `FOR UPDATE`: they exclude each other just the
same, but not the `FOR KEY SHARE` lock a foreign key check takes on the clinic a row points
to. A routing that holds its clinics may still meet such a check (updating a lead row it
already updated re-checks the lead's chosen clinic, and the patient's choice may be a
clinic it passed over); waiting there for another routing's clinic closed a cycle with
the routings waiting in id order, and PostgreSQL broke it by failing one of them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    exists,
    func,
    or_,
    select,
    text,
    update,
)

from app.models import (
    Assignment,
    Clinic,
    ClinicLanguage,
    ClinicStatus,
    Lead,
    Offering,
    RevokedReason,
)
from app.models.base import DbSession, rows_changed
from app.services.clinics.credentials import has_lapsed_credential

CAPACITY_WINDOW = timedelta(days=7)
FAIRNESS_WINDOW = timedelta(days=30)
# How long an assignment that left a window may still count against its clinic.
LOAD_RECOUNT_INTERVAL = timedelta(minutes=5)
# A wait for clinic rows longer than this fails the attempt cleanly; the sweeper retries.
LOCK_TIMEOUT = "5s"


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


def _remaining() -> ColumnElement[int]:
    """Weekly capacity left; with fairness and id, the order of `ix_clinics_routing_order`."""
    return Clinic.weekly_capacity - Clinic.week_leads


def _ranking_query(excludes: bool) -> Select[int, int, int]:
    """Eligible clinics in the order of the last ranking criteria, for the lead and day
    given as parameters (`_parameters`); `excludes`: leaving out the clinics that had it.

    That order is an index, so each tier's first few clinics are read from it instead of
    every candidate being scored and sorted.
    """
    remaining = _remaining()
    lapsed = has_lapsed_credential(bindparam("today", type_=Date))
    query = (
        select(Clinic.id, remaining.label("remaining"), Clinic.month_leads)
        .join(
            Offering,
            and_(
                Offering.clinic_id == Clinic.id,
                Offering.procedure_id == bindparam("procedure_id", type_=Integer),
            ),
        )
        .where(Clinic.status == ClinicStatus.APPROVED, remaining > 0, ~lapsed)
        .order_by(remaining.desc(), Clinic.month_leads, Clinic.id)
    )
    if excludes:
        query = query.where(Clinic.id.not_in(bindparam("had", expanding=True)))
    return query


def _parameters(lead: Lead, today: date) -> dict[str, Any]:
    return {
        "procedure_id": lead.procedure_id,
        "today": today,
        "had": [a.clinic_id for a in lead.assignments],
        "language": lead.language,
        "budget": lead.budget_usd,
        "chosen": lead.chosen_clinic_id,
    }


def eligible(session: DbSession, lead: Lead, clinic_ids: Iterable[int], today: date) -> set[int]:
    """Which of these clinics routing itself could give the lead to now (a staff member
    choosing by hand is held to the same rules)."""
    ids = list(clinic_ids)
    if not ids:
        return set()
    parameters = _parameters(lead, today)
    query = _ranking_query(bool(parameters["had"])).where(Clinic.id.in_(ids))
    return set(session.scalars(query, parameters))


@dataclass(frozen=True)
class _Tier:
    chosen: bool
    speaks: bool
    fits: bool


@dataclass(frozen=True)
class _Shape:
    """What a lead's tier queries depend on besides its parameters: one statement is built
    per shape and tier and kept (statements are immutable), so routing a lead binds values
    instead of building and keying a dozen SQL expressions each time."""

    budget: bool
    chosen: bool
    excludes: bool
    among: bool
    claim: bool


def _tiers(shape: _Shape) -> Iterator[_Tier]:
    """The ranking's leading criteria, best first: the chosen clinic, then the others by
    speaks the language and fits the budget (every price fits when there is no budget)."""
    fitting = (True, False) if shape.budget else (True,)
    for chosen in (True, False) if shape.chosen else (False,):
        for speaks in (True, False):
            for fits in fitting:
                yield _Tier(chosen, speaks, fits)


@functools.cache
def _tier_query(shape: _Shape, tier: _Tier) -> Select[int, int, int]:
    speaks = exists().where(
        ClinicLanguage.clinic_id == Clinic.id,
        ClinicLanguage.language == bindparam("language", type_=String),
    )
    conditions = [speaks if tier.speaks else ~speaks]
    if shape.budget:
        budget = bindparam("budget", type_=Integer)
        fits = or_(Offering.price_min_usd.is_(None), Offering.price_min_usd <= budget)
        conditions.append(fits if tier.fits else ~fits)
    if shape.chosen:
        chosen = bindparam("chosen", type_=Integer)
        conditions.append(Clinic.id == chosen if tier.chosen else Clinic.id != chosen)
    query = _ranking_query(shape.excludes).where(*conditions).limit(bindparam("limit"))
    if shape.among:
        query = query.where(Clinic.id.in_(bindparam("among", expanding=True)))
    if shape.claim:
        query = query.with_for_update(of=Clinic, skip_locked=not tier.chosen, key_share=True)
    return query


def rank_clinics(
    session: DbSession,
    lead: Lead,
    limit: int,
    today: date,
    *,
    claim: bool = False,
    among: list[int] | None = None,
) -> list[RankedClinic]:
    """The best `limit` eligible clinics for the lead, best first: one small query per tier,
    stopping once `limit` are found. `claim` locks them for this transaction, passing over
    clinics another transaction holds (PostgreSQL; SQLite has one writer), except the
    clinic the patient chose: that one is waited for, so a patient's choice is never lost
    to a moment's contention. Its tier comes first, so nothing else is held meanwhile and
    the wait cannot close a cycle. `among` ranks only those clinics."""
    parameters = {**_parameters(lead, today), "among": among}
    shape = _Shape(
        budget=lead.budget_usd is not None,
        chosen=lead.chosen_clinic_id is not None,
        excludes=bool(parameters["had"]),
        among=among is not None,
        claim=claim,
    )
    ranked: list[RankedClinic] = []
    for tier in _tiers(shape):
        if len(ranked) >= limit:
            break
        if tier.chosen and ranked:
            continue
        if claim and tier.chosen and session.get_bind().dialect.name == "postgresql":
            _set_lock_timeout(session)
        rows = session.execute(
            _tier_query(shape, tier), {**parameters, "limit": limit - len(ranked)}
        )
        ranked.extend(
            RankedClinic(
                clinic_id=row.id,
                chosen=tier.chosen,
                speaks_language=tier.speaks,
                budget_fits=tier.fits,
                remaining_capacity=int(row.remaining),
                recent_leads=int(row.month_leads),
            )
            for row in rows
        )
    return ranked


def claim_clinics(session: DbSession, lead: Lead, limit: int, today: date) -> list[RankedClinic]:
    """The clinics the lead goes to, locked until commit so their counts stay exact.

    A clinic another routing holds is passed over (the patient's choice excepted, see
    `rank_clinics`). If that leaves none, the held ones may be the only ones left (or a
    recount holds them): wait for every eligible clinic, in id order, and rank those afresh
    once they are ours, so "no matching clinic" is never said of a clinic that was only
    busy. Only those: a clinic that gained a place meanwhile is not ours, and another
    routing may be taking that place this moment."""
    if limit <= 0:
        return []
    ranked = rank_clinics(session, lead, limit, today, claim=True)
    if ranked or session.get_bind().dialect.name != "postgresql":
        return ranked
    _set_lock_timeout(session)
    parameters = _parameters(lead, today)
    held = session.execute(
        _ranking_query(bool(parameters["had"]))
        .order_by(None)
        .order_by(Clinic.id)
        .with_for_update(of=Clinic, key_share=True),
        parameters,
    ).all()
    return rank_clinics(session, lead, limit, today, among=[row.id for row in held])


def lock_clinics(session: DbSession, clinic_ids: Iterable[int]) -> None:
    """Hold these clinics' rows for this transaction, taken in id order as every waiting
    lock on clinics is (so two waiters never hold what the other needs)."""
    ids = sorted(set(clinic_ids))
    if ids and session.get_bind().dialect.name == "postgresql":
        _set_lock_timeout(session)
        session.execute(
            select(Clinic.id)
            .where(Clinic.id.in_(ids))
            .order_by(Clinic.id)
            .with_for_update(key_share=True)
        ).all()


def _set_lock_timeout(session: DbSession) -> None:
    session.execute(
        text("SELECT set_config('lock_timeout', :timeout, true)"), {"timeout": LOCK_TIMEOUT}
    )


def count_new_assignments(session: DbSession, clinic_ids: Iterable[int]) -> dict[int, Clinic]:
    """Add one lead to each clinic's week and month counts; return the clinics by id, loaded
    by the same statement (their notices need their addresses next). The caller holds the
    clinics' rows (`claim_clinics`, `lock_clinics`) and creates the assignments in the same
    transaction."""
    ids = list(clinic_ids)
    if not ids:
        return {}
    counted = session.scalars(_COUNT_NEW_ASSIGNMENT, {"clinic_ids": ids})
    return {clinic.id: clinic for clinic in counted}


_COUNT_NEW_ASSIGNMENT = (
    update(Clinic)
    .where(Clinic.id.in_(bindparam("clinic_ids", expanding=True)))
    .values(week_leads=Clinic.week_leads + 1, month_leads=Clinic.month_leads + 1)
    .returning(Clinic)
    .execution_options(populate_existing=True)
)


def counts_for_clinic() -> ColumnElement[bool]:
    """An assignment counts towards its clinic's load and answer figures unless the patient
    took the lead back (withdrew or had it erased). A lead settled by staff (closed, lost,
    spam) leaves the clinic's hands but stays part of its week and of its record."""
    return (
        exists()
        .where(Lead.id == Assignment.lead_id, Lead.consent_withdrawn_at.is_(None))
        .correlate_except(Lead)
    )


def recount_loads(
    session: DbSession, now: datetime, clinic_ids: Iterable[int] | None = None
) -> int:
    """Count each clinic's live assignments in the last 7 and 30 days exactly (all clinics,
    or those given); return how many counts changed. Beat runs it for every clinic to age
    out old assignments; revoking an assignment runs it for that clinic.

    Only the clinics whose counts are off are locked (in id order) and counted again under
    the lock, so routing to every other clinic goes on meanwhile."""
    which = None if clinic_ids is None else list(clinic_ids)
    stale = list(session.scalars(select(_fresh_counts(now, which).c.id)))
    if not stale:
        return 0
    lock_clinics(session, stale)
    fresh = _fresh_counts(now, stale)
    recount = (
        update(Clinic)
        .where(Clinic.id == fresh.c.id)
        .values(week_leads=fresh.c.week, month_leads=fresh.c.month)
        .execution_options(synchronize_session=False)
    )
    return rows_changed(session.execute(recount))


def _fresh_counts(now: datetime, clinic_ids: list[int] | None) -> Any:
    """The clinics (all, or those given) whose running counts differ from their live
    assignments, with the right counts: one grouped pass over a month of assignments,
    outer-joined to the clinics so that one with none counts 0."""
    live = (
        select(
            Assignment.clinic_id,
            func.count().filter(Assignment.created_at >= now - CAPACITY_WINDOW).label("week"),
            func.count().label("month"),
        )
        .where(counts_for_clinic(), Assignment.created_at >= now - FAIRNESS_WINDOW)
        .group_by(Assignment.clinic_id)
    )
    if clinic_ids is not None:
        live = live.where(Assignment.clinic_id.in_(clinic_ids))
    counts = live.subquery()
    week = func.coalesce(counts.c.week, 0)
    month = func.coalesce(counts.c.month, 0)
    counted = (
        select(Clinic.id, week.label("week"), month.label("month"))
        .outerjoin(counts, counts.c.clinic_id == Clinic.id)
        .where(or_(Clinic.week_leads != week, Clinic.month_leads != month))
    )
    if clinic_ids is not None:
        counted = counted.where(Clinic.id.in_(clinic_ids))
    return counted.subquery()


def revoke(
    session: DbSession, assignments: Iterable[Assignment], now: datetime, reason: RevokedReason
) -> list[Assignment]:
    """Take a lead back from the clinics still holding it (it was settled, or the patient
    withdrew); return those assignments. Their clinics are recounted at once, so a lead
    the patient took back stops counting (see `counts_for_clinic`)."""
    revoked = [a for a in assignments if a.revoked_at is None]
    for assignment in revoked:
        assignment.revoked_at = now
        assignment.revoked_reason = reason
        assignment.chosen_at = None
    recent = {a.clinic_id for a in revoked if a.created_at >= now - FAIRNESS_WINDOW}
    if recent:
        session.flush()
        recount_loads(session, now, recent)
    return revoked


def assign(
    session: DbSession, lead: Lead, limit: int, today: date, now: datetime, *, shared: bool
) -> list[Assignment]:
    """Fill the lead up to `limit` clinics holding it (without committing); return the new
    assignments. A clinic that declined or let its deadline pass frees its place for the
    next best clinic that has not had the lead. `shared`: the first routing, whose clinics
    the patient's confirmation names; any later clinic waits for the patient's agreement."""
    holding = len([a for a in lead.assignments if a.holds_lead])
    ranked = claim_clinics(session, lead, limit - holding, today)
    clinics = count_new_assignments(session, [c.clinic_id for c in ranked])
    created = []
    for offset, candidate in enumerate(ranked, start=len(lead.assignments) + 1):
        assignment = Assignment(
            lead=lead,
            clinic=clinics[candidate.clinic_id],
            rank=offset,
            score=candidate.breakdown(offset),
            created_at=now,
            shared_at=now if shared else None,
            consent_requested_at=None if shared else now,
        )
        session.add(assignment)
        created.append(assignment)
    session.flush()
    return created
