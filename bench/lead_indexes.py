"""What each index of the leads table costs an inquiry's INSERT, at the console's scale.

Every inquiry writes one lead, and every index on `leads` is one more B-tree to update in
that INSERT. This inserts the same batch of leads (fresh keys: reference, email, phone
digest, submission id; stamped now, as intake stamps them) into a table of generated leads
without each index in turn, each trial beside one with every index and in a transaction
rolled back, and prints the time per lead each index adds beside the console query or
constraint that needs it. Server-side only (one INSERT ... SELECT per trial): what the
index costs, without the network and the web worker around it.

`python -m bench.lead_indexes --keep NAME` uses the database `bench.console_at_scale --keep
NAME` generated (a million leads with BENCH_FULL=1); without --keep it generates 100,000
into a throw-away database.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

import psycopg

from bench.common import FULL, kept_database, save, scratch_database, table
from bench.console_at_scale import fill_database

BATCH = 2000
ROUNDS = 5

# Who reads each index (tests/integration/test_console_plans.py holds the plans).
NEEDED_BY = {
    "pk_leads": "primary key",
    "uq_leads_reference": "unique reference; search by reference",
    "uq_leads_submission_id": "a resubmitted form stores nothing twice",
    "ix_leads_created": "the list, newest first (and every filter without its own index)",
    "ix_leads_updated": "sort by latest activity",
    "ix_leads_status_created": "status tabs",
    "ix_leads_procedure_created": "procedure filter",
    "ix_leads_country_created": "country filter",
    "ix_leads_language_created": "language filter",
    "ix_leads_assignee_created": "assignee filter (mine, unassigned, a colleague)",
    "ix_leads_source_created": "source filter (web, API keys, any partner)",
    "ix_leads_partner_created": "one partner's leads (partial: partner leads only)",
    "ix_leads_email_procedure": "duplicate check by email; search by email",
    "ix_leads_phone_procedure": "duplicate check by phone; search by phone",
    "ix_leads_name_prefix": "search by the start of a name",
    "ix_leads_awaiting_staff_created": "overdue filter (partial: leads owed a first answer)",
    "ix_leads_no_matching_clinic_created": "no-match flag (partial)",
    "ix_leads_processing_failed_created": "processing-failed flag (partial)",
    "ix_leads_clinic_silent_created": "clinic-silent flag (partial)",
}

_STAGE = (
    "CREATE TEMP TABLE staged AS SELECT * FROM leads ORDER BY id DESC LIMIT %(batch)s",
    """UPDATE staged SET
    id = nextval('leads_id_seq'),
    reference = 'CR-B' || substr(md5(random()::text), 1, 10),
    submission_id = md5(random()::text),
    email = substr(md5(random()::text), 1, 12) || '@example.com',
    phone_digest = md5(random()::text) || md5(random()::text),
    full_name = initcap(substr(md5(random()::text), 1, 8)) || ' Testova',
    created_at = now(), updated_at = now(), staff_due_at = now() + interval '4 hours',
    staff_responded_at = NULL, status = 'new', processed_at = NULL,
    no_matching_clinic = false, processing_failed = false, clinic_silent = false""",
)


def _insert_ms(connection: psycopg.Connection, dropped: str | None) -> float:
    """One trial: the batch's INSERT, with `dropped` taken away first; rolled back."""
    with connection.transaction(force_rollback=True):
        if dropped is not None:
            if dropped.startswith("pk_") or dropped.startswith("uq_"):
                connection.execute(f"ALTER TABLE leads DROP CONSTRAINT {dropped} CASCADE")
            else:
                connection.execute(f"DROP INDEX {dropped}")
        started = time.perf_counter()
        connection.execute("INSERT INTO leads SELECT * FROM staged")
        return (time.perf_counter() - started) * 1000


def measure(url: str) -> dict[str, float]:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        indexes = [
            name
            for (name,) in connection.execute(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'leads' ORDER BY 1"
            )
        ]
        count = connection.execute("SELECT count(*) FROM leads").fetchone()[0]  # type: ignore[index]
        for statement in _STAGE:
            connection.execute(statement, {"batch": BATCH})
        connection.commit()
        # Each trial without an index is paired with one with every index, run next to it
        # (in turn first and second): the machine's pace drifts over the minutes the trials
        # take, and unpaired medians once showed indexes whose removal made inserts slower.
        every: list[float] = []
        saved: dict[str, list[float]] = {name: [] for name in indexes}
        rng = random.Random(3)
        for round_ in range(ROUNDS):
            order = list(indexes)
            rng.shuffle(order)
            for n, dropped in enumerate(order):
                pair = [None, dropped] if (round_ + n) % 2 else [dropped, None]
                timed = {name: _insert_ms(connection, name) for name in pair}
                every.append(timed[None])
                saved[dropped].append(timed[None] - timed[dropped])
    per_lead = {name: statistics.median(saved[name]) / BATCH * 1000 for name in indexes}
    all_indexes = statistics.median(every) / BATCH * 1000
    noise = statistics.median(abs(t / BATCH * 1000 - all_indexes) for t in every)
    rows = [
        ("leads in the table", f"{count:,}"),
        ("every index", f"{all_indexes:.1f} us per lead (trials vary by {noise:.1f} us)"),
    ]
    rows += [
        (name, f"{cost:+6.1f} us  {NEEDED_BY.get(name, 'NOT NEEDED by any query')}")
        for name, cost in sorted(per_lead.items(), key=lambda item: -item[1])
    ]
    table(f"What each leads index adds to an INSERT (median of {ROUNDS} paired trials)", rows)
    figures = {
        "lead_indexes.leads": float(count),
        "lead_indexes.insert_us": all_indexes,
        "lead_indexes.noise_us": noise,
    }
    figures.update({f"lead_indexes.{name}.us": round(cost, 2) for name, cost in per_lead.items()})
    return figures


def main(keep: str | None = None) -> dict[str, float]:
    count = 1_000_000 if FULL else 100_000
    with kept_database(keep) if keep else scratch_database() as url:
        fill_database(url, count)
        figures = measure(url)
    save(figures)
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", metavar="NAME", help="the database console_at_scale kept")
    main(parser.parse_args().keep)
