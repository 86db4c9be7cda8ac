"""The CSV export on PostgreSQL, where the database writes it (COPY): same cells as anywhere."""

from __future__ import annotations

import csv
import io

import pytest
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import StaffUser
from app.services.leads.processing import process_lead
from tests.support.clock import NOW
from tests.support.factories import STAFF_PASSWORD, make_clinic, make_lead, make_staff
from tests.support.forms import submit
from tests.support.policies import PROCESSING

pytestmark = pytest.mark.integration


def test_copy_export_filters_neutralises_formulas_and_lists_clinics(stack_app: Flask):
    alpha, bravo = make_clinic("Alpha"), make_clinic("Bravo")
    routed = make_lead(full_name="=HYPERLINK(evil)", email="-x@example.com", created_at=NOW)
    process_lead(db.session, routed.id, PROCESSING, now=NOW)
    make_lead(email="other@example.com", phone="+77015550999", country="MN")
    make_staff("csv@careroute.test")
    client = stack_app.test_client()
    submit(client, "/staff/login", {"email": "csv@careroute.test", "password": STAFF_PASSWORD})

    response = client.get("/staff/leads.csv?country=KZ")

    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:5] == ["reference", "created_at", "status", "full_name", "email"]
    assert len(rows) == 2
    reference, _created, status, name, email, country, *_rest, clinics, source, partner = rows[1]
    assert (reference, status, country) == (routed.reference, "routed", "KZ")
    assert (name, email) == ("'=HYPERLINK(evil)", "'-x@example.com")
    assert sorted(clinics.split()) == sorted([str(alpha.id), str(bravo.id)])
    assert (source, partner) == ("web", "")  # our own form: no partner
    assert db.session.scalar(select(StaffUser.id)) is not None
