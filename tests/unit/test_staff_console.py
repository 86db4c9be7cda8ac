"""The staff console's leads: list, filters, search, pagination, detail, actions, CSV."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Lead, LeadNote, LeadStatus, OutboundEmail, StaffUser
from app.services.leads.processing import process_lead
from app.services.leads.queries import SORTS, LeadFilters, list_leads
from tests.support.clock import NOW
from tests.support.factories import make_clinic, make_lead, procedure
from tests.support.forms import post
from tests.support.policies import PROCESSING

SCRIPT = "<script>alert('x')</script>"


@pytest.fixture
def leads(app: Flask) -> list[Lead]:
    return [
        make_lead(
            full_name="Aigerim Testova",
            email="a@example.com",
            phone="+77015550001",
            created_at=NOW - timedelta(hours=3),
        ),
        make_lead(
            full_name="Bat-Erdene Testov",
            email="b@example.com",
            phone="+97699110002",
            country="MN",
            language="mn",
            created_at=NOW - timedelta(hours=2),
            procedure=procedure("prp-knee"),
        ),
        make_lead(
            full_name=SCRIPT,
            email="=cmd@example.com",
            phone="+77015550003",
            status=LeadStatus.SPAM,
            created_at=NOW - timedelta(hours=1),
        ),
    ]


def refs(client: FlaskClient, query: str) -> set[str]:
    html = client.get(f"/staff/leads?{query}").get_data(as_text=True)
    return {lead.reference for lead in db.session.scalars(select(Lead)) if lead.reference in html}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", [0, 1, 2]),
        ("status=spam", [2]),
        ("procedure=prp-knee", [1]),
        ("country=mn", [1]),
        ("language=ru", [0, 2]),
        ("q=a%40example.com", [0]),
        ("q=aigerim", [0]),
        ("q=%2B976+9911+0002", [1]),
        ("assignee=unassigned", [0, 1, 2]),
        ("assignee=mine", []),
        ("flag=no_match", []),
    ],
)
def test_filters_and_search(
    staff_client: FlaskClient, leads: list[Lead], query: str, expected: list[int]
):
    assert refs(staff_client, query) == {leads[i].reference for i in expected}


def test_search_by_reference(staff_client: FlaskClient, leads: list[Lead]):
    assert refs(staff_client, f"q={leads[1].reference.lower()}") == {leads[1].reference}


def test_routed_clinic_filter(staff_client: FlaskClient, leads: list[Lead]):
    clinic = make_clinic("Alpha")
    process_lead(db.session, leads[0].id, PROCESSING, now=NOW)
    assert refs(staff_client, f"clinic={clinic.id}") == {leads[0].reference}


def test_tabs_show_counts_under_the_other_filters(staff_client: FlaskClient, leads: list[Lead]):
    html = staff_client.get("/staff/leads?language=ru").text
    assert "New (1)" in html and "Spam (1)" in html


def test_keyset_pages_cover_every_lead_once(staff_client: FlaskClient, app: Flask):
    for n in range(120):
        make_lead(
            email=f"p{n}@example.com",
            phone=f"+7701555{n:04d}",
            created_at=NOW - timedelta(minutes=n),
        )
    seen: list[str] = []
    url = "/staff/leads"
    while url:
        html = staff_client.get(url).text
        seen += [ref for ref in db.session.scalars(select(Lead.reference)) if ref in html]
        # The "Next page" link, not the language links that keep the page's cursor.
        following = re.search(r'<a href="(/staff/leads\?after=[^"]*)">Next page</a>', html)
        url = following.group(1).replace("&amp;", "&") if following else ""
    assert len(seen) == len(set(seen)) == 120


def test_patient_text_is_escaped_in_list_and_detail(staff_client: FlaskClient, leads: list[Lead]):
    for url in ("/staff/leads", f"/staff/leads/{leads[2].id}"):
        html = staff_client.get(url).text
        assert SCRIPT not in html
        assert "&lt;script&gt;" in html


def test_reading_a_lead_is_audited(
    staff_client: FlaskClient, leads: list[Lead], staff_user: StaffUser
):
    staff_client.get(f"/staff/leads/{leads[0].id}")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "lead.viewed"))
    assert (event.object_id, event.actor_id) == (leads[0].id, staff_user.id)


def test_lost_needs_a_reason(staff_client: FlaskClient, leads: list[Lead]):
    url = f"/staff/leads/{leads[0].id}/status"
    post(staff_client, url, {"status": "lost"})
    db.session.refresh(leads[0])
    assert leads[0].status is LeadStatus.NEW
    post(staff_client, url, {"status": "lost", "reason": "Chose a clinic at home"})
    db.session.refresh(leads[0])
    assert (leads[0].status, leads[0].lost_reason) == (LeadStatus.LOST, "Chose a clinic at home")
    assert db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "lead.status_changed")
    ).changes["status"] == ["new", "lost"]


def test_assign_note_resend_and_reroute_are_audited(
    staff_client: FlaskClient, leads: list[Lead], staff_user: StaffUser
):
    lead = leads[0]
    post(staff_client, f"/staff/leads/{lead.id}/assign", {"assignee": staff_user.id})
    post(staff_client, f"/staff/leads/{lead.id}/notes", {"body": "Called, sends MRI later"})
    post(staff_client, f"/staff/leads/{lead.id}/resend-confirmation", {})
    clinic = make_clinic("Alpha")
    post(staff_client, f"/staff/leads/{lead.id}/reroute", {"clinic": clinic.id})

    db.session.expire_all()
    lead = db.session.get(Lead, lead.id)
    assert lead.assigned_to_id == staff_user.id
    assert db.session.scalar(select(LeadNote.body)) == "Called, sends MRI later"
    assert [a.clinic_id for a in lead.assignments] == [clinic.id]
    assert lead.status is LeadStatus.ROUTED
    templates = sorted(e.template for e in db.session.scalars(select(OutboundEmail)))
    # A clinic staff add is named to the patient, who agrees before it hears of the lead.
    assert templates == ["patient_confirmation", "patient_consent_request"]
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {
        "lead.assigned",
        "lead.note_added",
        "lead.confirmation_resent",
        "lead.rerouted",
    } <= actions
    assert refs(staff_client, "assignee=mine") == {lead.reference}


def test_bulk_mark_spam_and_not_spam(staff_client: FlaskClient, leads: list[Lead]):
    one = post(staff_client, "/staff/leads/bulk", {"action": "spam", "lead": [leads[0].id]})
    assert "1 lead changed." in staff_client.get(one.headers["Location"]).get_data(as_text=True)
    post(staff_client, "/staff/leads/bulk", {"action": "spam", "lead": [leads[1].id]})
    db.session.expire_all()
    assert {db.session.get(Lead, lead.id).status for lead in leads} == {LeadStatus.SPAM}

    post(staff_client, f"/staff/leads/{leads[2].id}/not-spam", {})
    db.session.expire_all()
    assert db.session.get(Lead, leads[2].id).status is LeadStatus.NEW


def test_csv_is_streamed_filtered_and_safe_from_formulas(
    staff_client: FlaskClient, leads: list[Lead]
):
    response = staff_client.get("/staff/leads.csv?status=spam")

    assert response.is_streamed
    assert response.headers["Content-Disposition"].startswith("attachment")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][0] == "reference" and len(rows) == 2
    assert rows[1][3] == SCRIPT  # raw in CSV, which no browser renders
    assert rows[1][4] == "'=cmd@example.com"


@pytest.mark.parametrize(
    "url",
    [
        "/staff/leads",
        "/staff/leads/1",
        "/staff/leads.csv",
        "/staff/leads/1/attachments/1",
        "/staff/clinics",
        "/staff/clinics/1",
    ],
)
def test_anonymous_visitors_are_sent_to_sign_in(client: FlaskClient, url: str):
    response = client.get(url)
    assert response.status_code == 302
    assert "/staff/login" in response.headers["Location"]


def test_dashboard_draws_svg_charts_of_the_last_30_days(
    staff_client: FlaskClient, leads: list[Lead]
):
    from app.services.leads.dashboard import build_dashboard

    board = build_dashboard(db.session, now=NOW + timedelta(hours=1))
    assert sum(count for _, count in board.per_day) == 3
    assert dict(board.by_country) == {"KZ": 2, "MN": 1}
    assert dict(board.by_status) == {"new": 2, "spam": 1}
    html = staff_client.get("/staff/dashboard").text
    assert html.count("<svg") == 4 and "<script" not in html


def test_a_failed_routing_email_flags_its_lead_and_shows_on_its_timeline(
    staff_client: FlaskClient, leads: list[Lead]
):
    from app.models import EmailStatus
    from app.services.privacy.consent import withdraw_consent

    make_clinic("Alpha")
    process_lead(db.session, leads[0].id, PROCESSING, now=NOW)
    withdraw_consent(db.session, leads[0].id)
    notice = db.session.scalar(
        select(OutboundEmail).where(OutboundEmail.template == "clinic_new_lead")
    )
    notice.status = EmailStatus.FAILED
    notice.last_error = "550 mailbox unavailable"
    db.session.commit()

    assert refs(staff_client, "flag=email_failed") == {leads[0].reference}
    timeline = staff_client.get(f"/staff/leads/{leads[0].id}").text
    for template in ("clinic_new_lead", "patient_confirmation", "clinic_consent_withdrawn"):
        assert template in timeline
    assert "550 mailbox unavailable" in timeline


@pytest.mark.parametrize("sort", SORTS)
def test_the_export_lists_every_lead_in_the_order_of_the_list(
    staff_client: FlaskClient, app: Flask, sort: str
):
    for n in range(7):
        make_lead(
            email=f"p{n}@example.com",
            phone=f"+7701555020{n}",
            created_at=NOW - timedelta(hours=n),
            status=list(LeadStatus)[n % 3],
        )
    listed = list_leads(db.session, LeadFilters(sort=sort), staff_id=0, page_size=50).leads

    response = staff_client.get(f"/staff/leads.csv?sort={sort}")

    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert [row[0] for row in rows[1:]] == [lead.reference for lead in listed]
    assert "phone" not in rows[0]  # encrypted fields stay on the lead's page
