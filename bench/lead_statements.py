"""The worker's round trips for one lead: the statements, commits and pool checkouts (each a
pre-ping) of processing it and of sending its emails, on PostgreSQL, against an SMTP sink.

Leads are stored through intake (not counted) and routed to the demo clinics; then each
task the outbox holds for them runs in process, in order, as the worker would run it (the
process-lead task, then every send-email task). Prints the counts per lead.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, select, update

from app import create_app, task_names
from app.extensions import db
from app.models import OutboxMessage
from app.services.leads.intake import submit_inquiry
from bench.burst import burst_inquiry
from bench.common import save, scratch_database, settings, table
from bench.pipeline import demo_clinics_without_limits
from bench.stack import Sink

LEADS = 20


@contextmanager
def counting() -> Iterator[Counter[str]]:
    """Statements, commits and pool checkouts made inside the block."""
    counts: Counter[str] = Counter()

    def statement(*_: Any) -> None:
        counts["statements"] += 1

    def commit(*_: Any) -> None:
        counts["commits"] += 1

    def checkout(*_: Any) -> None:
        counts["checkouts"] += 1

    listeners = [
        (db.engine, "before_cursor_execute", statement),
        (db.engine, "commit", commit),
        (db.engine.pool, "checkout", checkout),
    ]
    for target, name, listener in listeners:
        event.listen(target, name, listener)
    try:
        yield counts
    finally:
        for target, name, listener in listeners:
            event.remove(target, name, listener)


def _run_outbox(tasks: dict[str, Any]) -> Counter[str]:
    """Run every unpublished task in order (marking it published, as the relay would),
    and those they queue, until none is left; how many of each ran."""
    ran: Counter[str] = Counter()
    while True:
        pending = db.session.execute(
            select(OutboxMessage.id, OutboxMessage.task, OutboxMessage.args)
            .where(OutboxMessage.published_at.is_(None))
            .order_by(OutboxMessage.id)
        ).all()
        if not pending:
            return ran
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_([row.id for row in pending]))
            .values(published_at=db.func.now())
        )
        db.session.commit()
        for _, name, args in pending:
            if name in tasks:
                tasks[name](*args)
                ran[name] += 1


def main() -> dict[str, float]:
    from workers.tasks.leads import process
    from workers.tasks.mail import send_email

    with scratch_database() as url, Sink() as sink:
        app = create_app(settings(url, SMTP_URL=f"smtp://127.0.0.1:{sink.port}"))
        with app.app_context():
            demo_clinics_without_limits()
            for n in range(LEADS):
                submit_inquiry(db.session, burst_inquiry(n, "no-such-clinic"), None, "")
            tasks = {task_names.PROCESS_LEAD: process, task_names.SEND_EMAIL: send_email}
            with counting() as counts:
                ran = _run_outbox(tasks)
            db.session.remove()
            db.engine.dispose()
    emails = len(sink.arrivals)
    figures = {
        "lead_statements.leads": float(LEADS),
        "lead_statements.emails_per_lead": emails / LEADS,
        "lead_statements.tasks_per_lead": sum(ran.values()) / LEADS,
        "lead_statements.statements_per_lead": counts["statements"] / LEADS,
        "lead_statements.commits_per_lead": counts["commits"] / LEADS,
        "lead_statements.checkouts_per_lead": counts["checkouts"] / LEADS,
    }
    table(
        f"The worker's round trips per lead ({LEADS} leads, {emails} emails sent)",
        [(key.split(".", 1)[1], f"{value:.1f}") for key, value in figures.items()],
    )
    save(figures)
    return figures


if __name__ == "__main__":
    main()
