"""The transactional outbox: tasks recorded with the change, published after commit.

The request only inserts a row; the relay publishes in batches, and the sweeper re-drives
work whose message was lost (broker down at publish time, Redis restarted empty, worker
killed before it acknowledged).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from kombu.exceptions import KombuError
from sqlalchemy import ColumnElement, Insert, delete, func, insert, literal, or_, select, update

from app import task_names
from app.models import EmailStatus, OutboundEmail, OutboxMessage
from app.models.base import DbSession, rows_changed, table_of, utcnow

log = logging.getLogger(__name__)

Publish = Callable[[str, Sequence[Any]], None]
# Opens one broker connection for a batch and yields the function that publishes on it.
Publisher = Callable[[], AbstractContextManager[Publish]]

# Errors that mean "the broker is not there now": the row stays and is tried again.
BROKER_DOWN = (KombuError, OSError, TimeoutError)


def enqueue_task(session: DbSession, task: str, *args: Any) -> None:
    """Record a task in the caller's transaction; it is published only once that commits."""
    session.execute(insert(table_of(OutboxMessage)).values(task=task, args=list(args)))


def task_from(task: str, arg: ColumnElement[int], at: ColumnElement[Any]) -> Insert:
    """The task as an INSERT ... SELECT whose one argument is a column of another statement
    (a CTE's RETURNING), so a row and its task are written in one statement. PostgreSQL only
    (`jsonb_build_array`; SQLite has no data-modifying CTEs to use it in)."""
    return insert(table_of(OutboxMessage)).from_select(
        ["task", "args", "created_at"], select(literal(task), func.jsonb_build_array(arg), at)
    )


@dataclass(frozen=True)
class RelayResult:
    published: int
    waiting: int  # rows of this batch left unpublished because the broker failed


def relay(session: DbSession, publisher: Publisher, batch_size: int = 200) -> RelayResult:
    """Publish unpublished outbox rows, oldest first.

    Rows are locked with SKIP LOCKED on PostgreSQL so several relays never publish the same
    row. A broker error stops the batch: what was published is marked, the rest waits.
    """
    rows = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.published_at.is_(None))
        .order_by(OutboxMessage.id)
        .limit(batch_size)
        .with_for_update(skip_locked=True)
    ).all()
    published = 0
    try:
        with publisher() as publish:
            for row in rows:
                publish(row.task, row.args)
                row.published_at = utcnow()
                published += 1
    except BROKER_DOWN as exc:
        log.warning("broker unavailable, %d outbox rows wait: %s", len(rows) - published, exc)
    session.commit()
    return RelayResult(published=published, waiting=len(rows) - published)


@dataclass(frozen=True)
class SweepResult:
    relayed: int
    emails_redriven: int
    purged: int


def sweep(
    session: DbSession,
    publisher: Publisher,
    stale_after: timedelta,
    now: datetime | None = None,
    keep_published: timedelta = timedelta(days=1),
) -> SweepResult:
    """Re-drive what the relay or a worker left behind.

    An email still pending (or held by a lease that ran out) a while after it was due lost
    its message somewhere: queue it again. The send task is idempotent, so a message that was
    only slow costs one extra no-op.
    """
    now = now or utcnow()
    relayed = relay(session, publisher).published
    cutoff = now - stale_after
    stuck_ids = session.scalars(
        select(OutboundEmail.id).where(
            or_(
                (OutboundEmail.status == EmailStatus.PENDING)
                & (OutboundEmail.next_attempt_at < cutoff),
                (OutboundEmail.status == EmailStatus.SENDING) & (OutboundEmail.lease_until < now),
            )
        )
    ).all()
    for email_id in stuck_ids:
        enqueue_task(session, task_names.SEND_EMAIL, email_id)
    if stuck_ids:
        session.execute(
            update(OutboundEmail)
            .where(OutboundEmail.id.in_(stuck_ids), OutboundEmail.status == EmailStatus.PENDING)
            .values(next_attempt_at=now)
        )
    purged = rows_changed(
        session.execute(
            delete(OutboxMessage).where(OutboxMessage.published_at < now - keep_published)
        )
    )
    session.commit()
    if stuck_ids:
        relayed += relay(session, publisher).published
        log.info("sweeper re-drove %d emails", len(stuck_ids))
    return SweepResult(relayed=relayed, emails_redriven=len(stuck_ids), purged=purged or 0)
