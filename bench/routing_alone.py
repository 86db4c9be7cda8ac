"""The routing service alone against 10,000 clinics: time per lead (target under 10 ms).

Every clinic offers the procedure (the worst case: all of them are candidates), speaks one
of a few languages, and has had leads in the last month (so capacity and fairness counts
have rows to read). Each lead is ranked and assigned and committed, as the worker does;
then, outside the clock, its assignments are deleted and its clinics recounted, so every
lead sees the same clinics. (Undoing by a rollback would also make psycopg forget the
statements it has prepared, which the worker, committing, keeps.)
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import datetime, timedelta

from flask_migrate import upgrade
from sqlalchemy import delete, insert, select, text, update

from app import create_app
from app.extensions import db
from app.models import (
    Assignment,
    Clinic,
    ClinicCredential,
    ClinicLanguage,
    ClinicStatus,
    CredentialKind,
    Lead,
    Offering,
    Procedure,
)
from app.models.base import utcnow
from app.services.clinics.catalog import load_catalog
from app.services.leads import routing
from bench.common import FULL, percentile, repeat, save, scratch_database, settings, table
from bench.generated_leads import generate_leads

CLINICS = 10_000
LEADS = 300 if FULL else 100
LANGUAGES = ("ko", "en", "ru", "mn", "ja", "zh")


def bench_clinics(procedure_id: int, count: int = CLINICS) -> None:
    """`count` approved clinics offering the procedure, each with a month of history."""
    rng = random.Random(3)
    now = utcnow()
    db.session.execute(
        insert(Clinic),
        [
            {
                "slug": f"bench-clinic-{n}",
                "name": f"Bench Clinic {n}",
                "contact_name": "Bench",
                "email": f"clinic{n}@bench.example.com",
                "phone": "+8225550100",
                "address": "1 Bench-ro",
                "district": "Gangnam-gu",
                "city": "Seoul",
                "registration_number": "0",
                "description": "",
                "weekly_capacity": rng.choice((5, 10, 50)),
                "status": ClinicStatus.APPROVED,
                "created_at": now,
            }
            for n in range(count)
        ],
    )
    ids = list(db.session.scalars(select(Clinic.id)))
    db.session.execute(
        insert(Offering),
        [
            {
                "clinic_id": i,
                "procedure_id": procedure_id,
                "price_min_usd": rng.choice((6000, 9000, 14000)),
                "notes": "",
            }
            for i in ids
        ],
    )
    db.session.execute(
        insert(ClinicLanguage), [{"clinic_id": i, "language": rng.choice(LANGUAGES)} for i in ids]
    )
    db.session.execute(
        insert(ClinicCredential),
        [
            {"clinic_id": i, "kind": CredentialKind.LICENCE, "code": "licence", "expires_on": None}
            for i in ids
        ],
    )
    # A month of history: 5 assignments per clinic spread over 30 days.
    lead_ids = list(db.session.scalars(select(Lead.id)))
    db.session.execute(
        insert(Assignment),
        [
            {
                "lead_id": lead_ids[(i * 5 + k) % len(lead_ids)],
                "clinic_id": i,
                "rank": 1,
                "score": {},
                "created_at": now - timedelta(hours=rng.randrange(30 * 24)),
            }
            for i in ids
            for k in range(5)
        ],
    )
    routing.recount_loads(db.session, now)
    db.session.commit()


def undo_routing(lead_ids: list[int], now: datetime) -> None:
    """Take the leads' assignments away and recount their clinics, outside the clock."""
    clinic_ids = list(
        db.session.scalars(
            delete(Assignment)
            .where(Assignment.lead_id.in_(lead_ids))
            .returning(Assignment.clinic_id)
        )
    )
    routing.recount_loads(db.session, now, clinic_ids)
    db.session.commit()


def routing_world(clinics: int, leads: int) -> list[int]:
    """A migrated database with `clinics` clinics offering one procedure, each with a month
    of history, and `leads` fresh leads asking for it, routed to nobody yet; their ids."""
    upgrade()
    load_catalog(db.session)
    procedure_id = db.session.scalar(
        select(Procedure.id).where(Procedure.slug == "autologous-msc-injection")
    )
    generate_leads(db.session, clinics * 5)
    bench_clinics(procedure_id, clinics)
    generate_leads(db.session, leads, seed=11)
    lead_ids = list(db.session.scalars(select(Lead.id).order_by(Lead.id.desc()).limit(leads)))
    db.session.execute(update(Lead).where(Lead.id.in_(lead_ids)).values(procedure_id=procedure_id))
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    return lead_ids


def main() -> dict[str, float]:
    with scratch_database() as url:
        app = create_app(settings(url))
        with app.app_context():
            lead_ids = routing_world(CLINICS, LEADS)
            samples: list[float] = []

            def run() -> float:
                times = []
                for lead_id in lead_ids:
                    lead = db.session.get(Lead, lead_id)
                    now = utcnow()
                    started = time.perf_counter()
                    made = routing.assign(db.session, lead, 3, now.date(), now, shared=True)
                    times.append((time.perf_counter() - started) * 1000)
                    assert len(made) == 3
                    db.session.commit()
                    undo_routing([lead_id], now)
                samples.extend(times)
                return statistics.median(times)

            result = repeat(run)
            db.session.remove()
            db.engine.dispose()
    figures = {
        "routing_alone.clinics": CLINICS,
        "routing_alone.p50_ms": round(result["median"], 2),
        "routing_alone.p50_spread_ms": round(result["spread"], 2),
        "routing_alone.p95_ms": round(percentile(samples, 0.95), 2),
        "routing_alone.target_ms": 10,
    }
    table(
        f"Routing alone, {CLINICS:,} clinics, {len(lead_ids)} leads x {int(result['runs'])} runs",
        [
            ("p50 per lead", f"{result['median']:.2f} ms (spread {result['spread']:.2f} ms)"),
            ("p95 per lead", f"{figures['routing_alone.p95_ms']} ms (target < 10 ms)"),
        ],
    )
    save(figures)
    return figures


if __name__ == "__main__":
    main()
