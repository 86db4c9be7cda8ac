"""What every benchmark shares: a throw-away database, repeated runs, the results file."""

from __future__ import annotations

import json
import os
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

ADMIN_URL = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/12")
RESULTS = Path(__file__).parent / "results" / "latest.json"
FULL = os.environ.get("BENCH_FULL") == "1"
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
# A Fernet key for throw-away bench databases only.
BENCH_DATA_KEY = "YmVuY2gtb25seS1kYXRhLWtleS1ub3QtZm9yLXVzZSE="


@contextmanager
def scratch_database() -> Iterator[str]:
    """A fresh PostgreSQL database (SQLAlchemy URL), dropped afterwards."""
    name = f"careroute_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _url_of(name)
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@contextmanager
def kept_database(name: str) -> Iterator[str]:
    """A PostgreSQL database (SQLAlchemy URL) made on first use and kept afterwards."""
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')
    yield _url_of(name)


def _url_of(name: str) -> str:
    base = ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    return f"{base}/{name}"


def settings(database_url: str, **overrides: str) -> dict[str, str]:
    return {
        "CAREROUTE_ENV": "testing",
        "SECRET_KEY": "bench-secret",
        "DATA_KEYS": BENCH_DATA_KEY,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": "memory://",
        "LOGIN_RATE_LIMIT": "100000 per minute",
        "INQUIRY_RATE_LIMIT": "1000000 per minute",
        "INQUIRY_MIN_FILL_SECONDS": "0",
        **overrides,
    }


def wait_for_quiet(limit: float = 1.0, timeout: float = 120.0) -> float:
    """Wait until the 1-minute load average is below `limit` (2 cores are noisy)."""
    deadline = time.monotonic() + timeout
    load = os.getloadavg()[0]
    while load > limit and time.monotonic() < deadline:
        time.sleep(5)
        load = os.getloadavg()[0]
    return load


def repeat(measure: Callable[[], float], runs: int = RUNS) -> dict[str, float]:
    """Median and spread (max - min) of `runs` measurements, each after a quiet wait."""
    values = []
    for _ in range(runs):
        wait_for_quiet()
        values.append(measure())
    return spread_of(values)


def spread_of(values: list[float]) -> dict[str, float]:
    return {
        "median": statistics.median(values),
        "spread": max(values) - min(values),
        "runs": float(len(values)),
    }


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def save(figures: dict[str, Any]) -> None:
    """Merge figures into bench/results/latest.json under their stable keys."""
    RESULTS.parent.mkdir(exist_ok=True)
    existing = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    RESULTS.write_text(json.dumps({**existing, **figures}, indent=2, sort_keys=True))


def table(title: str, rows: list[tuple[str, str]]) -> None:
    print(f"\n{title}")
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")


STAFF_EMAIL = "bench@careroute.test"
STAFF_PASSWORD = "bench password 123"


def staff_client(app: Any) -> Any:
    """A test client signed in as the bench database's admin (made on first use)."""
    from app.extensions import db
    from app.models import StaffRole
    from app.services.accounts.staff import StaffEmailTaken, create_staff

    with app.app_context():
        try:
            create_staff(db.session, STAFF_EMAIL, StaffRole.ADMIN, STAFF_PASSWORD)
        except StaffEmailTaken:  # a kept database (BENCH_CONSOLE_DATABASE) has one
            db.session.rollback()
        db.session.remove()
    client = app.test_client()
    page = client.get("/staff/login").text
    token = page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
    client.post(
        "/staff/login",
        data={"csrf_token": token, "email": STAFF_EMAIL, "password": STAFF_PASSWORD},
    )
    return client
