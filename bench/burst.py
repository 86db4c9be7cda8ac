"""A burst of inquiries at once, routed by 4 worker processes on the real stack (PostgreSQL,
Redis, the outbox relay, an aiosmtpd sink), to a handful of clinics with fewer places than
the burst asks for.

Not a speed target but a count of what went wrong: every lead must end routed or "no
matching clinic", none `processing_failed`, no clinic past its weekly capacity, every email
sent once. Beside the counts, the time from the first inquiry stored to the last email the
sink accepted. The test `tests/integration/test_burst_stack.py` holds the same at 100.
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import func, select

from app import create_app
from app.extensions import db
from app.models import (
    Assignment,
    Clinic,
    ClinicCredential,
    ClinicLanguage,
    ClinicStatus,
    CredentialKind,
    EmailStatus,
    Lead,
    LeadStatus,
    Offering,
    OutboundEmail,
    Procedure,
)
from app.services.clinics.catalog import load_catalog
from app.services.leads.intake import Inquiry, submit_inquiry
from bench.common import REDIS_URL, save, scratch_database, settings, table
from bench.stack import Sink, Stack

INQUIRIES = 500
WORKERS = 4
PROCEDURE = "autologous-msc-injection"
# (languages, lowest price, weekly capacity): 200 places for up to 1,500 asked for.
CLINICS = [
    (("ko", "ru"), 8000, 40),
    (("ko", "en"), 20000, 30),
    (("ko",), 9000, 50),
    (("ko", "ru", "en"), 12000, 20),
    (("ko",), None, 35),
    (("ko", "en"), 7000, 25),
]


def burst_clinics() -> None:
    procedure = db.session.scalar(select(Procedure).where(Procedure.slug == PROCEDURE))
    for n, (languages, price, capacity) in enumerate(CLINICS):
        db.session.add(
            Clinic(
                slug=f"burst-clinic-{n}",
                name=f"Burst Clinic {n}",
                contact_name="Bench",
                email=f"clinic{n}@burst.example.com",
                phone="+8225550100",
                address="1 Bench-ro",
                district="Gangnam-gu",
                city="Seoul",
                registration_number="0",
                weekly_capacity=capacity,
                status=ClinicStatus.APPROVED,
                languages=[ClinicLanguage(language=code) for code in languages],
                offerings=[Offering(procedure=procedure, price_min_usd=price)],
                credentials=[ClinicCredential(kind=CredentialKind.LICENCE, code="licence")],
            )
        )
    db.session.commit()


def burst_inquiry(n: int, chosen_clinic: str) -> Inquiry:
    """The n-th patient of a burst: each with its own address and phone so none is a
    duplicate; half speak Russian, half English, half give a budget, a third chose
    `chosen_clinic`. (The burst test stores the same patients.)"""
    return Inquiry(
        full_name=f"Burst Patient {n}",
        email=f"burst{n}@example.com",
        phone=f"+7701{n:07d}",
        country="KZ",
        language=("ru", "en")[n % 2],
        procedure_slug=PROCEDURE,
        clinic_slug=chosen_clinic if n % 3 == 0 else None,
        message="A fictional inquiry about a knee that has hurt for years.",
        budget_usd=15000 if n % 4 < 2 else None,
        travel_from=None,
        travel_to=None,
        needs_interpreter=False,
        needs_visa_letter=False,
        needs_accommodation=False,
        has_mri=False,
        submission_id=f"burst-{n}",
    )


def store_burst() -> float:
    """Every inquiry stored as intake stores it (its lead, task and audit event, one commit
    each); return when the first was stored."""
    started = time.time()
    for n in range(INQUIRIES):
        submit_inquiry(db.session, burst_inquiry(n, "burst-clinic-0"), None, "")
    return started


def wait_until_settled(sink: Sink, stalled_after: float = 30) -> None:
    """Until no lead waits for processing, no email waits to be sent and the sink holds at
    least every sent email (then a little longer, for a second copy of any of them), or
    until nothing has moved for `stalled_after` seconds: a lead whose attempt failed waits
    for beat's sweeper, which the bench does not run, and is counted as neither."""
    progress, moved = None, time.monotonic()
    while time.monotonic() - moved < stalled_after:
        waiting = db.session.scalar(
            select(func.count(Lead.id)).where(
                Lead.processed_at.is_(None), Lead.processing_failed.is_(False)
            )
        ) + db.session.scalar(
            select(func.count(OutboundEmail.id)).where(
                OutboundEmail.status.in_((EmailStatus.PENDING, EmailStatus.SENDING))
            )
        )
        sent = db.session.scalar(
            select(func.count(OutboundEmail.id)).where(OutboundEmail.status == EmailStatus.SENT)
        )
        db.session.rollback()
        received = len(sink.snapshot())
        if not waiting and received >= sent:
            time.sleep(2)
            return
        if (waiting, received) != progress:
            progress, moved = (waiting, received), time.monotonic()
        time.sleep(0.5)


def counts(sink: Sink, started: float) -> dict[str, float]:
    leads = Counter(
        "processing_failed"
        if failed
        else "routed"
        if status is LeadStatus.ROUTED
        else "no_match"
        if no_match and processed
        else "unsettled"
        for status, no_match, processed, failed in db.session.execute(
            select(
                Lead.status,
                Lead.no_matching_clinic,
                Lead.processed_at.is_not(None),
                Lead.processing_failed,
            )
        )
    )
    given = (
        select(Assignment.clinic_id, func.count().label("given"))
        .group_by(Assignment.clinic_id)
        .subquery()
    )
    overbooked = db.session.scalar(
        select(func.count())
        .select_from(Clinic)
        .join(given, given.c.clinic_id == Clinic.id)
        .where(given.c.given > Clinic.weekly_capacity)
    )
    arrivals = sink.snapshot()
    copies = Counter(a.message_id for a in arrivals)
    return {
        "burst.inquiries": INQUIRIES,
        "burst.workers": WORKERS,
        "burst.places": sum(capacity for *_, capacity in CLINICS),
        "burst.routed": leads["routed"],
        "burst.no_match": leads["no_match"],
        "burst.processing_failed": leads["processing_failed"],
        "burst.unsettled": leads["unsettled"],
        "burst.assignments": db.session.scalar(select(func.count(Assignment.id))),
        "burst.clinics_over_capacity": overbooked,
        "burst.emails_sent": db.session.scalar(
            select(func.count(OutboundEmail.id)).where(OutboundEmail.status == EmailStatus.SENT)
        ),
        "burst.emails_not_sent": db.session.scalar(
            select(func.count(OutboundEmail.id)).where(OutboundEmail.status != EmailStatus.SENT)
        ),
        "burst.emails_received": len(arrivals),
        "burst.emails_sent_twice": sum(1 for n in copies.values() if n > 1),
        "burst.seconds_to_last_email": round(max(a.at for a in arrivals) - started, 1),
    }


def main() -> dict[str, float]:
    with scratch_database() as url, tempfile.TemporaryDirectory() as tmp, Sink() as sink:
        app = create_app(settings(url, CELERY_BROKER_URL=REDIS_URL))
        stack = Stack(url, Path(tmp), sink)
        try:
            with app.app_context():
                upgrade()
                load_catalog(db.session)
                burst_clinics()
                stack.start_relay()
                for n in range(WORKERS):
                    stack.start_worker(concurrency=1, name=f"worker{n}")
                started = store_burst()
                wait_until_settled(sink)
                figures = counts(sink, started)
                db.session.remove()
                db.engine.dispose()
        finally:
            stack.stop_all()
    table(
        f"Burst: {INQUIRIES} inquiries at once, {WORKERS} worker processes, "
        f"{figures['burst.places']} places",
        [
            ("routed", str(figures["burst.routed"])),
            ("no matching clinic", str(figures["burst.no_match"])),
            ("processing_failed", f"{figures['burst.processing_failed']} (target 0)"),
            ("neither (lost)", f"{figures['burst.unsettled']} (target 0)"),
            ("clinics over capacity", f"{figures['burst.clinics_over_capacity']} (target 0)"),
            (
                "emails sent",
                f"{figures['burst.emails_sent']} (not sent {figures['burst.emails_not_sent']})",
            ),
            ("emails sent twice", f"{figures['burst.emails_sent_twice']} (target 0)"),
            ("first inquiry to last email", f"{figures['burst.seconds_to_last_email']} s"),
        ],
    )
    save(figures)
    return figures


if __name__ == "__main__":
    main()
