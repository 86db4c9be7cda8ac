"""Finding leads for the staff console: filters, search, sort and keyset pagination.

Keyset, not offset: the next page starts after the last row shown (its sort value and id),
so page 5,000 costs what page 1 costs, and rows arriving meanwhile never shift a page.
Every filter has an index ending in (created_at, id) (see `Lead.__table_args__`).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    BindParameter,
    Select,
    and_,
    bindparam,
    exists,
    func,
    or_,
    select,
    text,
    tuple_,
)
from sqlalchemy.orm import selectinload

from app.encryption import data_keys
from app.models import (
    OPEN_STATUSES,
    Assignment,
    Clinic,
    ClinicResponse,
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
    """Leads carrying the tag (the tab counts' and the export's filter; a page reads the
    tag's leads in order instead, `_by_tag`). Its id is written into the SQL, not bound: the
    planner then weighs this tag's own share of the leads and reads a rare tag's few leads
    through the tag's index, where a tag it knew only as "some tag" would send it down
    every lead's index in search of the few that carry it."""
    return exists().where(LeadTag.lead_id == Lead.id, LeadTag.tag_id == _tag(filters))


def _tag(filters: LeadFilters) -> BindParameter[int]:
    if filters.tag_id is None:
        raise ValueError("the tag filter needs resolve_tag first")
    return bindparam("tag_id", filters.tag_id, literal_execute=True)


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


def encode_cursor(lead: Lead | ListedLead, sort: str) -> str:
    values: list[Any] = []
    if sort == "status":
        values.append(lead.status.value)
    values.append((lead.updated_at if sort == "activity" else lead.created_at).isoformat())
    values.append(lead.id)
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode()


def _after_cursor(cursor: str, sort: str, keys: list[Any]) -> Any:
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
    older = tuple_(*keys[-2:]) < tuple_(moment, lead_id)
    if status is None:
        return older
    return or_(Lead.status > status, and_(Lead.status == status, older))


def ordered(query: Select[Any], sort: str, columns: Any = None) -> Select[Any]:
    """`query` in the list's order; `columns` (a subquery's) stand in for the lead's own."""
    order = _sort_columns(sort)
    if columns is not None:
        order = [columns[column.key] for column in order]
    return _in_order(query, sort, order)


def _in_order(query: Select[Any], sort: str, keys: list[Any]) -> Select[Any]:
    if sort == "status":
        return query.order_by(keys[0].asc(), keys[1].desc(), keys[2].desc())
    return query.order_by(*(key.desc() for key in keys))


def _by_tag(filters: LeadFilters) -> bool:
    """The list of one tag's leads, newest first or by activity, is read from the tag's own
    index in that order (`LeadTag`), the lead's filters checked on each."""
    return bool(filters.tag) and filters.sort != "status"


def _tag_keys(sort: str) -> list[Any]:
    first = LeadTag.lead_updated_at if sort == "activity" else LeadTag.lead_created_at
    return [first, LeadTag.lead_id]


def page_query(
    filters: LeadFilters,
    staff_id: int,
    cursor: str | None = None,
    limit: int = 51,
    now: datetime | None = None,
    columns: tuple[Any, ...] = (Lead,),
) -> Select[Any]:
    """The SQL of one page (also what the index tests EXPLAIN)."""
    by_tag = _by_tag(filters)
    where = conditions(replace(filters, tag=None) if by_tag else filters, staff_id, now or utcnow())
    query = select(*columns).where(*where)
    keys = _sort_columns(filters.sort)
    if by_tag:
        query = query.join(
            LeadTag, (LeadTag.lead_id == Lead.id) & (LeadTag.tag_id == _tag(filters))
        )
        keys = _tag_keys(filters.sort)
    if cursor:
        after = _after_cursor(cursor, filters.sort, keys)
        if after is not None:
            query = query.where(after)
    return _in_order(query, filters.sort, keys).limit(limit)


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
    # unique(): a lead's joined rows (its clinics, its tags) make one object.
    rows = list(session.scalars(query).unique())
    more = len(rows) > page_size
    rows = rows[:page_size]
    return Page(leads=rows, next_cursor=encode_cursor(rows[-1], filters.sort) if more else None)


@dataclass(frozen=True)
class ListedAnswer:
    clinic: str
    response: ClinicResponse | None
    expired_at: datetime | None
    revoked_at: datetime | None


@dataclass
class ListedLead:
    """A lead as the console's list shows it: its own columns, its procedure, its clinics'
    answers and its tags, read as plain rows. Two hundred ORM objects with their clinics
    and tags (a statement per relation, each binding 200 ids) cost more than the rest of
    the page together."""

    id: int
    reference: str
    full_name: str
    country: str
    language: str
    procedure_slug: str
    procedure_name: str
    status: LeadStatus
    assigned_to_id: int | None
    no_matching_clinic: bool
    processing_failed: bool
    clinic_silent: bool
    staff_due_at: datetime | None
    staff_responded_at: datetime | None
    created_at: datetime
    updated_at: datetime
    answers: dict[int, ListedAnswer] = field(default_factory=dict)  # by assignment id
    tags: dict[str, None] = field(default_factory=dict)  # names, in order, once each


@dataclass(frozen=True)
class ListedPage:
    leads: list[ListedLead]
    next_cursor: str | None


_LISTED = (
    Lead.id,
    Lead.reference,
    Lead.full_name,
    Lead.country,
    Lead.language,
    Lead.procedure_id,
    Lead.status,
    Lead.assigned_to_id,
    Lead.no_matching_clinic,
    Lead.processing_failed,
    Lead.clinic_silent,
    Lead.staff_due_at,
    Lead.staff_responded_at,
    Lead.created_at,
    Lead.updated_at,
)


def list_page(
    session: DbSession,
    filters: LeadFilters,
    staff_id: int,
    cursor: str | None = None,
    page_size: int = 50,
    now: datetime | None = None,
) -> ListedPage:
    """One page of the console's list in one statement: the page's leads (the same query
    as `list_leads`) joined to their procedure, clinics and tags."""
    filters = resolve_tag(session, filters)
    page = page_query(filters, staff_id, cursor, page_size + 1, now, _LISTED).subquery()
    query = (
        select(
            page,
            Procedure.slug,
            Procedure.name,
            Assignment.id.label("assignment_id"),
            Clinic.name.label("clinic"),
            Assignment.response,
            Assignment.expired_at,
            Assignment.revoked_at,
            Tag.name.label("tag"),
        )
        .join(Procedure, Procedure.id == page.c.procedure_id)
        .outerjoin(Assignment, Assignment.lead_id == page.c.id)
        .outerjoin(Clinic, Clinic.id == Assignment.clinic_id)
        .outerjoin(LeadTag, LeadTag.lead_id == page.c.id)
        .outerjoin(Tag, Tag.id == LeadTag.tag_id)
    )
    query = ordered(query, filters.sort, page.c).order_by(Assignment.rank, Tag.name)
    leads: dict[int, ListedLead] = {}
    for row in session.execute(query):
        lead = leads.get(row.id)
        if lead is None:
            lead = leads[row.id] = ListedLead(
                id=row.id,
                reference=row.reference,
                full_name=row.full_name,
                country=row.country,
                language=row.language,
                procedure_slug=row.slug,
                procedure_name=row.name,
                status=row.status,
                assigned_to_id=row.assigned_to_id,
                no_matching_clinic=row.no_matching_clinic,
                processing_failed=row.processing_failed,
                clinic_silent=row.clinic_silent,
                staff_due_at=row.staff_due_at,
                staff_responded_at=row.staff_responded_at,
                created_at=row.created_at,
                updated_at=row.updated_at,
            )
        if row.assignment_id is not None:
            lead.answers[row.assignment_id] = ListedAnswer(
                row.clinic, row.response, row.expired_at, row.revoked_at
            )
        if row.tag is not None:
            lead.tags[row.tag] = None
    rows = list(leads.values())
    more = len(rows) > page_size
    rows = rows[:page_size]
    return ListedPage(rows, encode_cursor(rows[-1], filters.sort) if more else None)


def assignee_emails(session: DbSession, leads: Sequence[Lead | ListedLead]) -> dict[int, str]:
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
    total = _estimate(connection, select(Lead.id).where(*where)) if on_postgresql else 0
    # Far beyond the bound by the planner's own estimate (a name prefix thousands of leads
    # share): the probe would fetch every match only to give way to the estimates.
    if total > 4 * EXACT_UP_TO:
        return _estimated_counts(connection, total, _statuses_of(filters))
    newest = replace(filters, status=None, sort="created")
    probe = page_query(newest, staff_id, limit=EXACT_UP_TO + 1, columns=(Lead.status,)).subquery()
    found: dict[LeadStatus, int] = dict(
        session.execute(select(probe.c.status, func.count()).group_by(probe.c.status)).all()
    )
    if sum(found.values()) > EXACT_UP_TO:
        if on_postgresql:
            return _estimated_counts(connection, total, _statuses_of(filters))
        # SQLite (development): small enough to count
        found = dict(
            session.execute(
                select(Lead.status, func.count()).where(*where).group_by(Lead.status)
            ).all()
        )
    counts = {status.value: 0 for status in LeadStatus}
    counts.update({status.value: count for status, count in found.items()})
    return TabCounts(counts, estimated=False)


def _statuses_of(filters: LeadFilters) -> tuple[LeadStatus, ...]:
    """The statuses a lead under these filters can have (before the status tab's own)."""
    return OPEN_STATUSES if "overdue" in filters.flags else tuple(LeadStatus)


def _estimated_counts(connection: Any, total: int, statuses: tuple[LeadStatus, ...]) -> TabCounts:
    """The planner's estimate of the filter, shared among the statuses as the table's
    statistics share them. An EXPLAIN per status would give the same figures ten times
    slower: the planner too takes the status as independent of the other conditions and
    multiplies by its frequency."""
    stats = connection.execute(
        text(
            "SELECT most_common_vals::text::text[], most_common_freqs FROM pg_stats"
            " WHERE schemaname = current_schema() AND tablename = 'leads'"
            " AND attname = 'status'"
        )
    ).first()
    known = dict(zip(*stats, strict=True)) if stats and stats[0] else {}
    # A status too rare to be among the common values shares what they leave.
    rare = [s for s in statuses if s.value not in known]
    left = max(0.0, 1.0 - sum(known.values())) / len(rare) if rare else 0.0
    shares = {s.value: known.get(s.value, left) for s in statuses}
    whole = sum(shares.values()) or 1.0
    counts = {status.value: 0 for status in LeadStatus}
    counts.update({value: round(total * share / whole) for value, share in shares.items()})
    return TabCounts(counts, estimated=True)


def _estimate(connection: Any, query: Select[Any]) -> int:
    compiled = query.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    [[plan]] = connection.exec_driver_sql(
        f"EXPLAIN (FORMAT JSON) {compiled}", compiled.params
    ).one()
    return int(plan["Plan"]["Plan Rows"])
