"""Shared column helpers."""

from datetime import UTC, datetime
from typing import Any, TypeAlias, cast

from sqlalchemy import CursorResult, DateTime, Result, Table
from sqlalchemy.orm import Session, scoped_session
from sqlalchemy.types import TypeDecorator

# What a service is handed: the app's scoped session (`db.session`, a proxy to the request's
# or task's session) or a plain Session (scripts, tests, benchmarks).
DbSession: TypeAlias = Session | scoped_session[Any]


def utcnow() -> datetime:
    """Current time, timezone-aware; used as a callable column default."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime on every backend.

    SQLite drops the offset on the way in; this stores UTC and hands back aware values,
    so comparisons with `utcnow()` work the same on SQLite and PostgreSQL.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=UTC)


def table_of(model: type[Any]) -> Table:
    """A model's table, for the Core INSERTs of hot paths (a mapped class's `__table__` is
    typed as any FromClause, though declarative mapping always makes it a Table)."""
    return cast(Table, model.__table__)


def rows_changed(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE touched (a DML statement's result is a
    CursorResult, which the session's `execute` is not typed to say)."""
    return cast(CursorResult[Any], result).rowcount
