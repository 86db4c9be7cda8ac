"""The console's CSV export: every lead under the current filters, streamed, memory flat.

On PostgreSQL the database writes the CSV itself (`COPY (query) TO STDOUT`) and the chunks
pass straight through: the export costs what COPY costs. On SQLite (development) the same
query runs and Python writes the rows. Cells a spreadsheet would run as formulas are
neutralised in the query, so both paths give the same cells.

The export holds no encrypted field: phone numbers and messages stay on the lead's page,
out of spreadsheets, and no row needs decrypting.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from datetime import date
from typing import Any

from sqlalchemy import Select, String, case, cast, func, literal, select

from app.models import Assignment, Lead, Partner, Procedure
from app.models.base import DbSession, utcnow
from app.services.audit import Actor, record
from app.services.leads.queries import LeadFilters, conditions, ordered, resolve_tag

COLUMNS = (
    "reference",
    "created_at",
    "status",
    "full_name",
    "email",
    "country",
    "language",
    "procedure",
    "budget_usd",
    "clinics",
    "source",
    "partner",
)
# A cell starting with one of these is a formula to a spreadsheet: prefix it with a quote.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# What the response is written in: a chunk per row would be a socket write per row.
CHUNK_BYTES = 64 * 1024


def _safe(column: Any) -> Any:
    return case(
        (func.substr(column, 1, 1).in_(FORMULA_STARTS), literal("'", String) + column),
        else_=column,
    )


def export_query(filters: LeadFilters, staff_id: int) -> Select[Any]:
    clinics = (
        select(func.aggregate_strings(cast(Assignment.clinic_id, String), " "))
        .where(Assignment.lead_id == Lead.id)
        .correlate(Lead)
        .scalar_subquery()
    )
    query = (
        select(
            Lead.reference,
            Lead.created_at,
            Lead.status,
            _safe(Lead.full_name),
            _safe(Lead.email),
            Lead.country,
            Lead.language,
            Procedure.slug,
            Lead.budget_usd,
            clinics,
            Lead.source,
            # Joined, not a subquery: the formula guard reads the name twice.
            _safe(Partner.name),
        )
        .join(Procedure, Procedure.id == Lead.procedure_id)
        .outerjoin(Partner, Partner.id == Lead.partner_id)
        .where(*conditions(filters, staff_id, utcnow()))
    )
    return ordered(query, filters.sort)


def _header() -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(COLUMNS)
    return buffer.getvalue().encode()


def record_export(session: DbSession, filters: LeadFilters, staff: Actor) -> None:
    """Names and emails leave the system in the file: who took which leads is on record.
    The search text is not kept (it may be a patient's phone number, encrypted elsewhere)."""
    described = {
        key: value.isoformat() if isinstance(value, date) else value
        for key, value in asdict(filters).items()
        if value not in (None, ())
    }
    if "search" in described:
        described["search"] = True
    record(session, staff, "leads.exported", lead=None, changes={"filters": described})
    session.commit()


def csv_chunks(session: DbSession, filters: LeadFilters, staff_id: int) -> Iterator[bytes]:
    yield _header()
    query = export_query(resolve_tag(session, filters), staff_id)
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        compiled = query.compile(
            dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
        )
        driver = connection.connection.driver_connection
        with driver.cursor() as cursor:  # type: ignore[union-attr]
            copy_sql = f"COPY ({compiled}) TO STDOUT WITH (FORMAT csv)"
            with cursor.copy(copy_sql, compiled.params) as copy:
                yield from _batched(copy)
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in session.execute(query).yield_per(2000):
        writer.writerow(row)
        if buffer.tell() > CHUNK_BYTES:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def _batched(rows: Iterable[bytes | memoryview]) -> Iterator[bytes]:
    """COPY hands over one row at a time; passed on as they came, each row cost a trip
    through the WSGI stack and a write to the socket."""
    batch = bytearray()
    for row in rows:
        batch += row
        if len(batch) >= CHUNK_BYTES:
            yield bytes(batch)
            batch.clear()
    if batch:
        yield bytes(batch)
