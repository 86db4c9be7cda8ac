"""On PostgreSQL, the console's list query uses an index for every filter, never a full scan
of the leads table. (Timings at a million leads live in bench/.)"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import func, insert, select, text
from sqlalchemy.dialects import postgresql

from app import create_app
from app.extensions import db
from app.models import Lead, LeadTag, Tag
from app.services.leads.queries import LeadFilters, page_query, resolve_tag, status_counts
from bench.generated_leads import generate_leads
from tests.support.application import app_settings
from tests.support.factories import directory_clinics
from tests.support.stack import truncate_all

pytestmark = pytest.mark.integration

FILTERS = {
    "none": LeadFilters(),
    "status": LeadFilters(status="routed"),
    "procedure": LeadFilters(procedure="prp-knee"),
    "country": LeadFilters(country="MN"),
    "language": LeadFilters(language="ja"),
    "clinic": LeadFilters(clinic_id=1),
    "mine": LeadFilters(assignee="mine"),
    "unassigned": LeadFilters(assignee="unassigned"),
    "created range": LeadFilters(created_from=date(2026, 6, 1), created_to=date(2026, 6, 30)),
    "no match": LeadFilters(flags=("no_match",)),
    "clinic silent": LeadFilters(flags=("clinic_silent",)),
    "email failed": LeadFilters(flags=("email_failed",)),
    "overdue": LeadFilters(flags=("overdue",)),
    "search reference": LeadFilters(search="CR-G0001234"),
    "search name": LeadFilters(search="Aigerim Tes"),
    "search email": LeadFilters(search="patient77@example.com"),
    "search phone": LeadFilters(search="+7701 0001234"),
    "sort activity": LeadFilters(sort="activity"),
    "sort status": LeadFilters(sort="status"),
    "status tab and country": LeadFilters(status="new", country="KZ"),
    "any partner": LeadFilters(source="partner"),
    "one partner": LeadFilters(source="partner-1"),
    "api keys": LeadFilters(source="api"),
    "tag": LeadFilters(tag="vip"),
    "rare tag": LeadFilters(tag="rare"),
    "tag and status": LeadFilters(tag="callback", status="new"),
}


@pytest.fixture(scope="module")
def leads_table(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """15,000 generated leads, analysed, shared by every plan below: enough for the planner to
    scan a table that has lost an index (checked by dropping `ix_leads_created`), half the
    setup time of 30,000."""
    app = create_app(app_settings(tmp_path_factory.mktemp("plans"), DATABASE_URL=pg_url))
    with app.app_context():
        truncate_all()
        directory_clinics()
        generate_leads(db.session, 15000)
        tag_a_few_leads("rare", every=10000)
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        yield app
        db.session.remove()
        db.engine.dispose()


def tag_a_few_leads(name: str, every: int) -> None:
    """A tag on a handful of leads: the planner must not walk every lead to find them."""
    tag = Tag(name=name)
    db.session.add(tag)
    db.session.flush()
    leads = db.session.execute(
        select(Lead.id, Lead.created_at, Lead.updated_at).where(Lead.id % every == 7)
    )
    db.session.execute(
        insert(LeadTag),
        [
            {"lead_id": i, "tag_id": tag.id, "lead_created_at": c, "lead_updated_at": u}
            for i, c, u in leads
        ],
    )


def plan(query: object) -> str:
    sql = query.compile(
        dialect=postgresql.dialect(),  # type: ignore[attr-defined]
        compile_kwargs={"literal_binds": True},
    )
    rows = db.session.execute(text(f"EXPLAIN {sql}")).scalars().all()
    return "\n".join(rows)


@pytest.mark.parametrize("name", list(FILTERS))
def test_each_filter_reads_leads_through_an_index(leads_table: Flask, name: str):
    explained = plan(page_query(resolve_tag(db.session, FILTERS[name]), staff_id=1))

    assert "Seq Scan on leads" not in explained, explained
    assert "Index" in explained, explained


def test_tab_counts_are_exact_for_a_narrow_filter_and_estimated_for_a_broad_one(
    leads_table: Flask,
):
    everything = db.session.scalar(text("SELECT count(*) FROM leads"))

    broad = status_counts(db.session, LeadFilters(), staff_id=1)
    narrow = status_counts(db.session, LeadFilters(search="CR-G0001234"), staff_id=1)

    assert broad.estimated
    assert 0.8 * everything < sum(broad.counts.values()) < 1.2 * everything
    by_status = db.session.execute(select(Lead.status, func.count()).group_by(Lead.status))
    for status, count in by_status:
        assert abs(broad.counts[status.value] - count) < 0.2 * count, (status, broad.counts)
    assert not narrow.estimated
    assert sum(narrow.counts.values()) == 1


def test_the_overdue_filter_reads_only_leads_still_owed_an_answer(leads_table: Flask):
    """With the values bound as the app binds them (not inlined), PostgreSQL still sees that
    the filter implies the partial index's condition."""
    query = page_query(LeadFilters(flags=("overdue",)), staff_id=1)
    connection = db.session.connection()
    compiled = query.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    rows = connection.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params).scalars().all()

    assert "ix_leads_awaiting_staff_created" in "\n".join(rows), rows


@pytest.mark.parametrize("sort", ["created", "activity"])
def test_a_rare_tags_few_leads_are_read_through_the_tags_index(leads_table: Flask, sort: str):
    filters = resolve_tag(db.session, LeadFilters(tag="rare", sort=sort))

    explained = plan(page_query(filters, staff_id=1))

    assert "on ix_lead_tags_tag_" in explained, explained
    assert "Backward using ix_leads" not in explained, explained  # not every lead, newest first
