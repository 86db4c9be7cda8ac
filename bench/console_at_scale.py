"""The staff console at scale: list pages for every filter, tabs, search, a lead's page.

Generates leads into a throw-away PostgreSQL database (100,000 by default, 1,000,000 with
BENCH_FULL=1), then times each page through the app, in process, signed in as staff.
Prints a table and merges its figures into bench/results/latest.json under "console.*".
A million leads take ~20 minutes to generate: `python -m bench.console_at_scale --keep NAME`
generates into a PostgreSQL database of that name once and keeps it; later runs with the
same name time the pages against it.
(The CSV export has its own benchmark, bench/export.py.)
"""

from __future__ import annotations

import argparse
import statistics
import time

from flask_migrate import upgrade
from sqlalchemy import func, inspect, select, text

from app import create_app
from app.demo import load_demo_clinics
from app.extensions import db
from app.models import Lead
from app.services.clinics.catalog import load_catalog
from bench.common import (
    FULL,
    kept_database,
    percentile,
    save,
    scratch_database,
    settings,
    staff_client,
    wait_for_quiet,
)
from bench.generated_leads import generate_leads

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
    "overdue": "/staff/leads?flag=overdue",
    "search_reference": "/staff/leads?q=CR-G0001234",
    "search_name": "/staff/leads?q=Aigerim+Tes",
    "search_phone": "/staff/leads?q=%2B77010001234",
    "sort_activity": "/staff/leads?sort=activity",
    "source_partner": "/staff/leads?source=partner",
    "source_one_partner": "/staff/leads?source=partner-1",
    "source_api": "/staff/leads?source=api",
    "tag": "/staff/leads?tag=vip",
    "tag_and_status": "/staff/leads?tag=callback&status=new",
    "tag_sort_activity": "/staff/leads?tag=visa&sort=activity&per_page=100",
    "per_page_200": "/staff/leads?per_page=200",
    # What a saved view holds: filters, a sort and a page size together.
    "saved_view": "/staff/leads?status=new&tag=callback&sort=activity&per_page=100",
}


def timed(client, url: str, runs: int) -> list[float]:  # type: ignore[no-untyped-def]
    """The first load of a page (cold: its SQL compiled and prepared, its template loaded,
    once per process) and then `runs` loads as a process serving staff all day does them."""
    samples = []
    for _ in range(runs + 1):
        started = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return samples


def main(keep: str | None = None) -> dict[str, float]:
    count = 1_000_000 if FULL else 100_000
    runs = 20
    with kept_database(keep) if keep else scratch_database() as url:
        generated = fill_database(url, count)
        app = create_app(settings(url))
        with app.app_context():
            lead_id = db.session.scalar(select(Lead.id).order_by(Lead.id.desc()))
            count = db.session.scalar(select(func.count(Lead.id))) or 0
            db.session.remove()
        client = staff_client(app)
        figures: dict[str, float] = {"console.leads": count}
        if generated is None:
            print(f"{count:,} leads, generated earlier into {keep}")
        else:
            figures["console.generate_seconds"] = round(generated, 1)
            print(f"{count:,} leads generated in {generated:.1f} s")
        print(f"{'page':<20} {'p50 ms':>8} {'p95 ms':>8} {'cold ms':>8}")
        for key, path in {**PAGES, "lead_detail": f"/staff/leads/{lead_id}"}.items():
            wait_for_quiet()
            cold, *samples = timed(client, path, runs)
            p50, p95 = statistics.median(samples), percentile(samples, 0.95)
            figures[f"console.{key}.p50_ms"] = round(p50, 2)
            figures[f"console.{key}.p95_ms"] = round(p95, 2)
            figures[f"console.{key}.cold_ms"] = round(cold, 2)
            print(f"{key:<20} {p50:>8.1f} {p95:>8.1f} {cold:>8.1f}")
        figures["console.target_p95_ms"] = 50
        with app.app_context():
            db.engine.dispose()
    save(figures)
    return figures


def fill_database(url: str, count: int) -> float | None:
    """Generate `count` leads unless the database holds leads already (a kept one); the
    seconds it took."""
    app = create_app(settings(url))
    with app.app_context():
        if inspect(db.engine).has_table("leads") and db.session.scalar(select(Lead.id).limit(1)):
            return None
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
        db.session.remove()
        db.engine.dispose()
    return generated


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", metavar="NAME", help="generate into this database once, keep it")
    main(parser.parse_args().keep)
