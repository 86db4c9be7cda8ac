"""Finding leads for the staff console: filters, search, sort and keyset pagination.

Keyset, not offset: the next page starts after the last row shown (its sort value and id),
so page 5,000 costs what page 1 costs, and rows arriving meanwhile never shift a page.
Every filter has an index ending in (created_at, id) (see `Lead.__table_args__`).
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import BindParameter, Select, and_, bindparam, exists, func, or_, select, tuple_
from sqlalchemy.orm import selectinload

from app.encryption import data_keys
from app.models import (
    OPEN_STATUSES,
    Assignment,
    EmailStatus,
    Lead,
    LeadStatus,
    LeadTag,
    OutboundEmail,
    Procedure,
    StaffUser,
    Tag,
)
from app.models.base import DbSession, utcnow

SORTS = ("created", "activity", "status")
PAGE_SIZES = (25, 50, 100, 200)
FLAGS = ("no_match", "clinic_silent", "email_failed", "processing_failed", "overdue")


@dataclass(frozen=True)
class LeadFilters:
    status: str | None = None
    procedure: str | None = None
    country: str | None = None
    language: str | None = None
    clinic_id: int | None = None
    # "web", "api", "partner" (any partner) or "partner-<id>" (one partner)
    source: str | None = None
    assignee: str | None = None  # "mine", "unassigned", or a staff id
    created_from: date | None = None
    created_to: date | None = None
    flags: tuple[str, ...] = field(default_factory=tuple)
    search: str | None = None
    tag: str | None = None  # a tag's (normalised) name
    # The tag's id, found by `resolve_tag` (0: no tag has that name).
    tag_id: int | None = None
    sort: str = "created"


@dataclass(frozen=True)
class Page:
    leads: list[Lead]
    next_cursor: str | None


def conditions(filters: LeadFilters, staff_id: int, now: datetime) -> list[Any]:
    where: list[Any] = []
    if filters.status:
        where.append(Lead.status == LeadStatus(filters.status))
    if filters.procedure:
        where.append(
            Lead.procedure_id
            == select(Procedure.id).where(Procedure.slug == filters.procedure).scalar_subquery()
        )
    if filters.country:
        where.append(Lead.country == filters.country.upper())
    if filters.language:
        where.append(Lead.language == filters.language)
    if filters.clinic_id:
        where.append(
            exists().where(Assignment.lead_id == Lead.id, Assignment.clinic_id == filters.clinic_id)
        )
    if filters.source:
        where.append(_from_source(filters.source))
    if filters.assignee == "mine":
        where.append(Lead.assigned_to_id == staff_id)
    elif filters.assignee == "unassigned":
        where.append(Lead.assigned_to_id.is_(None))
    elif filters.assignee and filters.assignee.isdigit():
        where.append(Lead.assigned_to_id == int(filters.assignee))
    if filters.created_from:
        where.append(
            Lead.created_at >= datetime.combine(filters.created_from, time(), tzinfo=now.tzinfo)
        )
    if filters.created_to:
        where.append(
            Lead.created_at
            < datetime.combine(filters.created_to + timedelta(days=1), time(), tzinfo=now.tzinfo)
        )
    if "no_match" in filters.flags:
        where.append(Lead.no_matching_clinic.is_(True))
    if "processing_failed" in filters.flags:
        where.append(Lead.processing_failed.is_(True))
    if "clinic_silent" in filters.flags:
        where.append(Lead.clinic_silent.is_(True))
    if "email_failed" in filters.flags:
        where.append(
            exists().where(
                OutboundEmail.lead_id == Lead.id, OutboundEmail.status == EmailStatus.FAILED
            )
        )
    if "overdue" in filters.flags:
        where.extend(_overdue(now))
    if filters.search:
        where.append(_search(filters.search))
    if filters.tag:
        where.append(_tagged(filters))
    return where


def _overdue(now: datetime) -> list[Any]:
    """Past staff's first-response time with no word from staff yet, and not settled: the
    condition of the partial index `ix_leads_awaiting_staff_created`, and one comparison."""
    return [
        Lead.staff_responded_at.is_(None),
        Lead.staff_due_at.is_not(None),
        Lead.status.in_(OPEN_STATUSES),
        Lead.staff_due_at < now,
    ]


def resolve_tag(session: DbSession, filters: LeadFilters) -> LeadFilters:
    """The filters with their tag's id, which the tag filter needs (see `_tagged`)."""
    if not filters.tag or filters.tag_id is not None:
        return filters
    found = session.scalar(select(Tag.id).where(Tag.name == filters.tag))
    return replace(filters, tag_id=found or 0)


def _tagged(filters: LeadFilters) -> Any:
    """Leads carrying the tag. Its id is written into the SQL, not bound: the planner then
    weighs this tag's own share of the leads and reads a rare tag's few leads through
    (tag_id, lead_id), where a tag it knew only as "some tag" would send it down every
    lead's index in search of the few that carry it."""
    if filters.tag_id is None:
        raise ValueError("the tag filter needs resolve_tag first")
    tag_id: BindParameter[int] = bindparam("tag_id", filters.tag_id, literal_execute=True)
    return exists().where(LeadTag.lead_id == Lead.id, LeadTag.tag_id == tag_id)


def _from_source(source: str) -> Any:
    """One partner's leads read its partial index; "web", "api" or any partner read the
    source's."""
    kind, _, partner = source.partition("-")
    if partner.isdigit():
        return Lead.partner_id == int(partner)
    return Lead.source == kind


def _search(term: str) -> Any:
    """Reference, email and phone match exactly (indexed; the phone through its blind index);
    a name matches by its start."""
    term = term.strip()
    digits = re.sub(r"[^\d+]", "", term)
    options = [
        Lead.reference == term.upper(),
        Lead.email == term.lower(),
        func.lower(Lead.full_name).like(f"{_escape_like(term.lower())}%", escape="\\"),
    ]
    if len(digits.lstrip("+")) >= 6:
        options.append(Lead.phone_digest.in_(data_keys().digests("+" + digits.lstrip("+"))))
    return or_(*options)


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _sort_columns(sort: str) -> list[Any]:
    if sort == "activity":
        return [Lead.updated_at, Lead.id]
    if sort == "status":
        return [Lead.status, Lead.created_at, Lead.id]
    return [Lead.created_at, Lead.id]


def encode_cursor(lead: Lead, sort: str) -> str:
    values: list[Any] = []
    if sort == "status":
        values.append(lead.status.value)
    values.append((lead.updated_at if sort == "activity" else lead.created_at).isoformat())
    values.append(lead.id)
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode()


def _after_cursor(cursor: str, sort: str) -> Any:
    """Rows after the cursor in the sort order (timestamps and ids descending)."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if sort == "status":
            status, stamp, lead_id = LeadStatus(values[0]), values[1], int(values[2])
        else:
            status, stamp, lead_id = None, values[0], int(values[1])
        moment = datetime.fromisoformat(stamp)
    except (ValueError, TypeError, IndexError, json.JSONDecodeError):
        return None
    return _after(sort, status, moment, lead_id)


def _after(sort: str, status: LeadStatus | None, moment: datetime, lead_id: int) -> Any:
    column = Lead.updated_at if sort == "activity" else Lead.created_at
    older = tuple_(column, Lead.id) < tuple_(moment, lead_id)
    if status is None:
        return older
    return or_(Lead.status > status, and_(Lead.status == status, older))


def ordered(query: Select[Any], sort: str) -> Select[Any]:
    columns = _sort_columns(sort)
    if sort == "status":
        return query.order_by(columns[0].asc(), columns[1].desc(), columns[2].desc())
    return query.order_by(*(c.desc() for c in columns))


def page_query(
    filters: LeadFilters,
    staff_id: int,
    cursor: str | None = None,
    limit: int = 51,
    now: datetime | None = None,
) -> Select[Any]:
    """The SQL of one page (also what the index tests EXPLAIN)."""
    query = select(Lead).where(*conditions(filters, staff_id, now or utcnow()))
    if cursor:
        after = _after_cursor(cursor, filters.sort)
        if after is not None:
            query = query.where(after)
    return ordered(query, filters.sort).limit(limit)


def list_leads(
    session: DbSession,
    filters: LeadFilters,
    staff_id: int,
    cursor: str | None = None,
    page_size: int = 50,
    now: datetime | None = None,
    also_load: tuple[Any, ...] = (),
) -> Page:
    """One page; the list shows each lead's procedure, `also_load` adds what else is needed."""
    filters = resolve_tag(session, filters)
    query = page_query(filters, staff_id, cursor, page_size + 1, now).options(
        selectinload(Lead.procedure), *also_load
    )
    rows = list(session.scalars(query))
    more = len(rows) > page_size
    rows = rows[:page_size]
    return Page(leads=rows, next_cursor=encode_cursor(rows[-1], filters.sort) if more else None)


def assignee_emails(session: DbSession, leads: list[Lead]) -> dict[int, str]:
    """Who each lead of a page is assigned to, in one query (staff who left included)."""
    ids = {lead.assigned_to_id for lead in leads if lead.assigned_to_id is not None}
    if not ids:
        return {}
    rows = session.execute(select(StaffUser.id, StaffUser.email).where(StaffUser.id.in_(ids)))
    return {staff_id: email for staff_id, email in rows}


# Counting every lead under a broad filter costs a scan of them all. The tabs count exactly
# when the filter matches at most this many leads (read newest first through the filter's
# own index); beyond it, PostgreSQL's planner estimates each tab.
EXACT_UP_TO = 2000


@dataclass(frozen=True)
class TabCounts:
    counts: dict[str, int]
    estimated: bool


def status_counts(session: DbSession, filters: LeadFilters, staff_id: int) -> TabCounts:
    """Counts per status under every filter but the status itself (the tabs)."""
    filters = resolve_tag(session, filters)
    where = conditions(replace(filters, status=None), staff_id, utcnow())
    connection = session.connection()
    on_postgresql = connection.dialect.name == "postgresql"
    # Far beyond the bound by the planner's own estimate (a name prefix thousands of leads
    # share): the probe would fetch every match only to give way to the estimates.
    if on_postgresql and _estimate(connection, select(Lead.id).where(*where)) > 4 * EXACT_UP_TO:
        return _estimated_counts(connection, where)
    newest = ordered(select(Lead.status).where(*where), "created").limit(EXACT_UP_TO + 1)
    probe = newest.subquery()
    found: dict[LeadStatus, int] = dict(
        session.execute(select(probe.c.status, func.count()).group_by(probe.c.status)).all()
    )
    if sum(found.values()) > EXACT_UP_TO:
        if on_postgresql:
            return _estimated_counts(connection, where)
        # SQLite (development): small enough to count
        found = dict(
            session.execute(
                select(Lead.status, func.count()).where(*where).group_by(Lead.status)
            ).all()
        )
    counts = {status.value: 0 for status in LeadStatus}
    counts.update({status.value: count for status, count in found.items()})
    return TabCounts(counts, estimated=False)


def _estimated_counts(connection: Any, where: list[Any]) -> TabCounts:
    counts = {
        status.value: _estimate(connection, select(Lead.id).where(Lead.status == status, *where))
        for status in LeadStatus
    }
    return TabCounts(counts, estimated=True)


def _estimate(connection: Any, query: Select[Any]) -> int:
    compiled = query.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    [[plan]] = connection.exec_driver_sql(
        f"EXPLAIN (FORMAT JSON) {compiled}", compiled.params
    ).one()
    return int(plan["Plan"]["Plan Rows"])
