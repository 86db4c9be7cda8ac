"""The staff dashboard: a chosen range of days, and leads and clinic answers per clinic,
procedure and language, in business hours as the clinics' own stats count them."""

from __future__ import annotations

import re
from datetime import date, timedelta
from itertools import count

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from app.models import Assignment, Clinic, Lead
from app.models.base import utcnow
from app.services.answers.stats import answer_stats
from app.services.leads.dashboard import Period, build_dashboard
from tests.support.checks import statements_run
from tests.support.clock import CALENDAR, FRIDAY_NIGHT, NOW
from tests.support.factories import make_clinic, make_lead, procedure

_patients = count(1)
NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30))


def lead_sent_to(
    clinic: Clinic, *, answered_after: float | None = None, expired: bool = False, **lead: object
) -> Lead:
    """A lead whose notice went to `clinic` on Friday night, answered `answered_after`
    business hours later, or let expire."""
    n = next(_patients)
    made = make_lead(
        email=f"p{n}@example.com", phone=f"+7701555{n:04}", created_at=FRIDAY_NIGHT, **lead
    )
    db.session.add(
        Assignment(
            lead=made,
            clinic=clinic,
            rank=1,
            sent_at=FRIDAY_NIGHT,
            responded_at=None
            if answered_after is None
            else CALENDAR.add_hours(FRIDAY_NIGHT, answered_after),
            expired_at=FRIDAY_NIGHT + timedelta(days=4) if expired else None,
        )
    )
    db.session.commit()
    return made


@pytest.fixture
def clinics(app: Flask) -> tuple[Clinic, Clinic]:
    return make_clinic("Alpha"), make_clinic("Beta", offers="prp-knee")


def test_the_dashboard_shows_the_last_30_days_unless_told(staff_client: FlaskClient, app: Flask):
    today = utcnow().date()
    make_lead(email="old@example.com", phone="+77015550901", created_at=NOW.replace(year=2025))
    board = build_dashboard(db.session, now=NOW)
    assert (board.period.first, board.period.last) == (date(2026, 10, 27), date(2026, 11, 25))
    assert len(board.per_day) == 30 and sum(n for _, n in board.per_day) == 0

    html = staff_client.get("/staff/dashboard").text
    first = (today - timedelta(days=29)).isoformat()
    assert f"Dashboard: {first} to {today.isoformat()}" in html
    assert f'name="from" type="date" value="{first}"' in html


def test_a_chosen_range_counts_only_its_days(staff_client: FlaskClient, clinics):
    alpha, _beta = clinics
    lead_sent_to(alpha, answered_after=1)  # Friday 2026-11-20
    make_lead(email="dec@example.com", phone="+77015550902", created_at=NOW + timedelta(days=10))

    board = build_dashboard(db.session, NOVEMBER)
    assert len(board.per_day) == 30 and sum(n for _, n in board.per_day) == 1

    html = staff_client.get("/staff/dashboard?from=2026-11-01&to=2026-11-30").text
    assert "Dashboard: 2026-11-01 to 2026-11-30" in html
    december = staff_client.get("/staff/dashboard?from=2026-12-01&to=2026-12-31").text
    assert ">Alpha</a>" in html and ">Alpha</a>" not in december


@pytest.mark.parametrize(
    ("query", "field", "error"),
    [
        ("from=2026-11-30&to=2026-11-01", "to", "on or before the last day"),
        ("from=2024-01-01&to=2026-11-01", "to", "at most 366 days"),
        ("from=2026-11-01&to=yesterday", "to", "Not a valid date"),
        ("from=2099-11-01", "from", "on or before the last day"),
        ("from=2020-11-01", "from", "at most 366 days"),
    ],
)
def test_a_range_that_makes_no_sense_is_said_next_to_its_field(
    staff_client: FlaskClient, query: str, field: str, error: str
):
    response = staff_client.get(f"/staff/dashboard?{query}")
    html = response.text
    assert response.status_code == 422
    assert re.search(rf'<p class="error" id="{field}-error">[^<]*{error}', html)
    assert '-11-01"' in html  # what was typed is kept


def test_each_clinic_shows_its_leads_and_answers_as_its_own_stats_do(
    staff_client: FlaskClient, clinics
):
    alpha, beta = clinics
    lead_sent_to(alpha, answered_after=1.5)
    lead_sent_to(alpha, answered_after=3.5)
    lead_sent_to(alpha, expired=True)
    lead_sent_to(beta, answered_after=2, procedure=procedure("prp-knee"))

    rows = {row.label: row for row in build_dashboard(db.session, NOVEMBER).by_clinic}
    own = answer_stats(db.session, [alpha.id], CALENDAR, NOVEMBER.since)[alpha.id]
    assert (rows["Alpha"].leads, rows["Alpha"].answers) == (3, own)
    assert (own.answered, own.expired, own.median_hours) == (2, 1, 2.5)
    assert rows["Beta"].answers.rate == 1

    html = staff_client.get("/staff/dashboard?from=2026-11-01&to=2026-11-30").text
    assert f'href="/staff/leads?clinic={alpha.id}&amp;from=2026-11-01&amp;to=2026-11-30"' in html
    assert "66% (2 of 3)" in html and "2.5 business hours" in html


def test_leads_and_answers_per_procedure_and_per_language(staff_client: FlaskClient, clinics):
    alpha, beta = clinics
    lead_sent_to(alpha, answered_after=1, language="ru")
    lead_sent_to(alpha, expired=True, language="en")
    lead_sent_to(beta, answered_after=4, language="ru", procedure=procedure("prp-knee"))

    board = build_dashboard(db.session, NOVEMBER)
    by_procedure = {row.key: (row.leads, row.answers.rate) for row in board.by_procedure_answers}
    by_language = {row.key: (row.leads, row.answers.rate) for row in board.by_language}
    assert by_procedure == {"autologous-msc-injection": (2, 0.5), "prp-knee": (1, 1.0)}
    assert by_language == {"ru": (2, 1.0), "en": (1, 0.0)}

    html = staff_client.get("/staff/dashboard?from=2026-11-01&to=2026-11-30").text
    assert "<h2>By language</h2>" in html and ">Russian</a>" in html
    assert 'href="/staff/leads?procedure=prp-knee&amp;from=2026-11-01' in html


def test_the_tables_take_the_same_queries_however_many_rows(app: Flask, clinics):
    alpha, _beta = clinics
    lead_sent_to(alpha, answered_after=1)
    with statements_run() as few:
        build_dashboard(db.session, NOVEMBER)

    for n, language in enumerate(["en", "mn", "ar", "ja", "vi"]):
        lead_sent_to(make_clinic(f"Clinic {n}"), answered_after=2, language=language)
    with statements_run() as many:
        board = build_dashboard(db.session, NOVEMBER)

    assert len(board.by_clinic) == 6 and len(board.by_language) == 6
    assert len(many) == len(few) < 20
