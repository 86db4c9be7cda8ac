"""The CSV export of 100,000 leads beside PostgreSQL's own COPY of the same rows.

Targets: export time at most 3x COPY's, and peak memory growth of the web process (here the
process serving the request, in process) under 50 MB.
"""

from __future__ import annotations

import io
import resource
import time
import tracemalloc

import psycopg
from flask_migrate import upgrade
from sqlalchemy import text

from app import create_app
from app.demo import load_demo_clinics
from app.extensions import db
from app.services.clinics.catalog import load_catalog
from bench.common import repeat, save, scratch_database, settings, staff_client, table
from bench.generated_leads import generate_leads

LEADS = 100_000
# The export's rows and columns, plainly: no formula guard, no clinics subquery.
COPY_SQL = (
    "COPY (SELECT l.reference, l.created_at, l.status, l.full_name, l.email,"
    " l.country, l.language, p.slug, l.budget_usd FROM leads l"
    " JOIN procedures p ON p.id = l.procedure_id ORDER BY l.created_at DESC, l.id DESC)"
    " TO STDOUT WITH (FORMAT csv)"
)


def main() -> dict[str, float]:
    with scratch_database() as url:
        app = create_app(settings(url))
        with app.app_context():
            upgrade()
            load_catalog(db.session)
            load_demo_clinics(db.session)
            generate_leads(db.session, LEADS)
            db.session.execute(text("ANALYZE"))
            db.session.remove()
        client = staff_client(app)
        plain_url = url.replace("postgresql+psycopg://", "postgresql://")
        sizes: dict[str, int] = {}
        peaks: list[float] = []

        def export() -> float:
            started = time.perf_counter()
            response = client.get("/staff/leads.csv")
            sizes["export"] = sum(len(chunk) for chunk in response.response)
            return time.perf_counter() - started

        def memory_growth() -> float:
            """A separate run: tracing allocations slows the export it watches."""
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            tracemalloc.start()
            response = client.get("/staff/leads.csv")
            for _chunk in response.response:
                pass
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
            return max(peak / 1e6, grown / 1e3)

        def copy() -> float:
            started = time.perf_counter()
            out = io.BytesIO()
            with (
                psycopg.connect(plain_url) as connection,
                connection.cursor() as cursor,
                cursor.copy(COPY_SQL) as stream,
            ):
                for chunk in stream:
                    out.write(chunk)
            sizes["copy"] = out.tell()
            return time.perf_counter() - started

        exported = repeat(export)
        copied = repeat(copy)
        peaks.append(memory_growth())
        with app.app_context():
            db.engine.dispose()
    ratio = exported["median"] / copied["median"]
    figures = {
        "export.leads": LEADS,
        "export.seconds": round(exported["median"], 3),
        "export.seconds_spread": round(exported["spread"], 3),
        "export.copy_seconds": round(copied["median"], 3),
        "export.copy_seconds_spread": round(copied["spread"], 3),
        "export.ratio_to_copy": round(ratio, 2),
        "export.ratio_target": 3,
        "export.peak_memory_growth_mb": round(max(peaks), 1),
        "export.memory_target_mb": 50,
    }
    table(
        f"CSV export of {LEADS:,} leads ({sizes['export'] / 1e6:.1f} MB) beside COPY "
        f"({sizes['copy'] / 1e6:.1f} MB), median of {int(exported['runs'])}",
        [
            ("export", f"{exported['median']:.2f} s (spread {exported['spread']:.2f})"),
            ("COPY", f"{copied['median']:.2f} s (spread {copied['spread']:.2f})"),
            ("ratio", f"{ratio:.1f}x (target <= 3x)"),
            ("peak memory growth", f"{max(peaks):.1f} MB (target < 50 MB)"),
        ],
    )
    save(figures)
    return figures


if __name__ == "__main__":
    main()
