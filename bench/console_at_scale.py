"""The staff console at scale: list pages for every filter, tabs, search, a lead's page.

Generates leads into a throw-away PostgreSQL database (100,000 by default, 1,000,000 with
BENCH_FULL=1), then times each page through the app, in process, signed in as staff.
Prints a table and merges its figures into bench/results/latest.json under "console.*".
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path

import psycopg
from flask_migrate import upgrade
from sqlalchemy import select, text

from app import create_app
from app.extensions import db
from app.models import Lead, StaffRole
from app.services.auth import create_staff
from app.services.catalog import load_catalog
from app.services.demo import generate_leads, load_demo_clinics

ADMIN_URL = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
RESULTS = Path(__file__).parent / "results" / "latest.json"
PASSWORD = "bench password 123"
PAGES = {
    "all": "/staff/leads",
    "status": "/staff/leads?status=routed",
    "procedure": "/staff/leads?procedure=prp-knee",
    "country": "/staff/leads?country=MN",
    "language": "/staff/leads?language=ja",
    "clinic": "/staff/leads?clinic=1",
    "mine": "/staff/leads?assignee=mine",
    "unassigned": "/staff/leads?assignee=unassigned",
    "created_range": "/staff/leads?from=2026-06-01&to=2026-06-30",
    "no_match": "/staff/leads?flag=no_match",
    "search_reference": "/staff/leads?q=CR-G0001234",
    "search_name": "/staff/leads?q=Aigerim+Tes",
    "search_phone": "/staff/leads?q=%2B77010001234",
    "sort_activity": "/staff/leads?sort=activity",
}


def timed(client, url: str, runs: int) -> list[float]:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return samples


def measure_csv(client, count: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Export every lead; the streamed response must keep memory flat (tracemalloc peak)."""
    tracemalloc.start()
    started = time.perf_counter()
    response = client.get("/staff/leads.csv")
    size = sum(len(chunk) for chunk in response.response)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"CSV of {count:,} leads: {size / 1e6:.1f} MB in {elapsed:.1f} s, "
        f"peak Python memory {peak / 1e6:.1f} MB"
    )
    return {"console.csv_seconds": round(elapsed, 2), "console.csv_peak_mb": round(peak / 1e6, 1)}


def main() -> None:
    count = 1_000_000 if os.environ.get("BENCH_FULL") == "1" else 100_000
    runs = 20
    name = f"careroute_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + "/" + name
    app = create_app(
        {
            "CAREROUTE_ENV": "testing",
            "SECRET_KEY": "bench",
            "DATABASE_URL": url,
            "CELERY_BROKER_URL": "memory://",
            "LOGIN_RATE_LIMIT": "1000 per minute",
            "MAILCATCHER_DIR": tempfile.mkdtemp(),
        }
    )
    try:
        with app.app_context():
            upgrade()
            load_catalog(db.session)
            load_demo_clinics(db.session)
            started = time.perf_counter()
            generate_leads(db.session, count)
            generated = time.perf_counter() - started
            db.session.commit()
            # What autovacuum does on a live database: statistics and the visibility map
            # (without it no index-only scan is possible on freshly loaded rows).
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as raw:
                raw.execute(text("VACUUM ANALYZE"))
            create_staff(db.session, "bench@careroute.test", StaffRole.ADMIN, PASSWORD)
            lead_id = db.session.scalar(select(Lead.id).order_by(Lead.id.desc()))
            db.session.remove()
        client = app.test_client()
        page = client.get("/staff/login").text
        token = page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
        client.post(
            "/staff/login",
            data={"csrf_token": token, "email": "bench@careroute.test", "password": PASSWORD},
        )
        figures: dict[str, float] = {
            "console.leads": count,
            "console.generate_seconds": round(generated, 1),
        }
        print(f"{count:,} leads generated in {generated:.1f} s")
        print(f"{'page':<20} {'p50 ms':>8} {'p95 ms':>8}")
        for key, path in {**PAGES, "lead_detail": f"/staff/leads/{lead_id}"}.items():
            samples = sorted(timed(client, path, runs))
            p50 = statistics.median(samples)
            p95 = samples[int(len(samples) * 0.95) - 1]
            figures[f"console.{key}.p50_ms"] = round(p50, 2)
            figures[f"console.{key}.p95_ms"] = round(p95, 2)
            print(f"{key:<20} {p50:>8.1f} {p95:>8.1f}")
        figures.update(measure_csv(client, count))
        RESULTS.parent.mkdir(exist_ok=True)
        existing = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        RESULTS.write_text(json.dumps({**existing, **figures}, indent=2, sort_keys=True))
    finally:
        with app.app_context():
            db.engine.dispose()
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
