"""Where leads come from, in the console: a partner's traffic is measured by filtering the
list by source, exporting it, and reading the dashboard's leads and answer rates per source."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.models import Assignment, Lead, Partner
from app.services import audit
from app.services.integrations import partners
from app.services.leads.dashboard import build_dashboard
from tests.support.clock import NOW
from tests.support.factories import make_clinic, routed_lead

SYSTEM = audit.Actor.system("test")


@pytest.fixture
def blogs(app: Flask) -> list[Partner]:
    return [
        partners.create_partner(db.session, name, [], SYSTEM)[0]
        for name in ("Steppe Travel", "Knee Care Blog")
    ]


@pytest.fixture
def leads(blogs: list[Partner]) -> dict[str, Lead]:
    """One lead from each source, each routed to the one clinic."""
    make_clinic("Alpha")
    made = {
        "web": {"source": "web"},
        "api": {"source": "api"},
        "steppe": {"source": "partner", "partner_id": blogs[0].id},
        "blog": {"source": "partner", "partner_id": blogs[1].id},
    }
    return {
        name: routed_lead(
            email=f"{name}@example.com",
            phone=f"+7701555030{n}",
            created_at=NOW - timedelta(days=1, minutes=n),
            **columns,
        )
        for n, (name, columns) in enumerate(made.items())
    }


def listed(client: FlaskClient, query: str, leads: dict[str, Lead]) -> set[str]:
    html = client.get(f"/staff/leads?{query}").text
    return {name for name, lead in leads.items() if lead.reference in html}


def test_the_list_filters_by_source(
    staff_client: FlaskClient, leads: dict[str, Lead], blogs: list[Partner]
):
    assert listed(staff_client, "source=web", leads) == {"web"}
    assert listed(staff_client, "source=api", leads) == {"api"}
    assert listed(staff_client, "source=partner", leads) == {"steppe", "blog"}
    assert listed(staff_client, f"source=partner-{blogs[1].id}", leads) == {"blog"}
    assert listed(staff_client, "source=nonsense", leads) == set(leads)


def test_the_source_filter_names_each_partner_and_keeps_the_choice(
    staff_client: FlaskClient, leads: dict[str, Lead], blogs: list[Partner]
):
    html = staff_client.get(f"/staff/leads?source=partner-{blogs[0].id}").text
    assert f'<option value="partner-{blogs[0].id}" selected>Steppe Travel</option>' in html
    assert f'<option value="partner-{blogs[1].id}">Knee Care Blog</option>' in html


def test_the_export_carries_the_source_and_the_partner(
    staff_client: FlaskClient, leads: dict[str, Lead]
):
    response = staff_client.get("/staff/leads.csv?source=partner")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert {(row["reference"], row["source"], row["partner"]) for row in rows} == {
        (leads["steppe"].reference, "partner", "Steppe Travel"),
        (leads["blog"].reference, "partner", "Knee Care Blog"),
    }


def test_the_dashboard_counts_leads_and_clinic_answers_per_source(
    staff_client: FlaskClient, leads: dict[str, Lead], blogs: list[Partner]
):
    def settle(name: str, answered: bool) -> None:
        assignment = db.session.scalar(
            select(Assignment).where(Assignment.lead_id == leads[name].id)
        )
        assignment.sent_at = leads[name].created_at  # the clinic's notice went out
        if answered:
            assignment.responded_at = assignment.sent_at + timedelta(hours=2)
        else:
            assignment.expired_at = assignment.sent_at + timedelta(days=3)

    settle("steppe", answered=True)
    settle("blog", answered=False)
    settle("web", answered=True)
    leads["api"].assignments[0].sent_at = NOW - timedelta(hours=1)
    db.session.commit()

    board = build_dashboard(db.session, now=NOW)
    figures = {row.source: row for row in board.by_source}
    steppe, blog = f"partner-{blogs[0].id}", f"partner-{blogs[1].id}"
    assert {source: row.leads for source, row in figures.items()} == {
        "web": 1,
        "api": 1,
        steppe: 1,
        blog: 1,
    }
    assert figures[steppe].answers.rate == 1 and figures[blog].answers.rate == 0
    assert figures["api"].answers.rate is None  # still within its deadline: not counted yet

    html = staff_client.get("/staff/dashboard?from=2026-11-01&to=2026-11-30").text
    link = f"/staff/leads?source={steppe}&amp;from=2026-11-01&amp;to=2026-11-30"
    assert f'href="{link}">Steppe Travel</a>' in html
    assert "100% (1 of 1)" in html and "0% (0 of 1)" in html
