"""Credential expiry: lapsed clinics are flagged, reminders go once per expiry date."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.models import Clinic, OutboundEmail, StaffUser
from app.services import clinics as clinic_service
from app.services.demo import load_demo_clinics
from tests.support.forms import submit

TODAY = date(2026, 11, 25)


def demo_clinic() -> Clinic:
    load_demo_clinics(db.session, today=TODAY)
    return db.session.scalar(select(Clinic).order_by(Clinic.id))


def reminders() -> list[OutboundEmail]:
    return list(
        db.session.scalars(
            select(OutboundEmail).where(OutboundEmail.template == "credential_expiring")
        )
    )


def test_reminder_goes_once_per_expiry_date(app: Flask, staff_user: StaffUser):
    clinic = demo_clinic()
    clinic_service.set_credential(
        db.session, clinic.id, staff_user.id, "insurance", "P-1", TODAY + timedelta(days=20)
    )

    assert clinic_service.remind_expiring_credentials(db.session, TODAY, 30) == 1
    assert clinic_service.remind_expiring_credentials(db.session, TODAY, 30) == 0
    assert (
        clinic_service.remind_expiring_credentials(db.session, TODAY + timedelta(days=1), 30) == 0
    )
    assert [e.recipient for e in reminders()] == [clinic.email]

    clinic_service.set_credential(
        db.session, clinic.id, staff_user.id, "insurance", "P-2", TODAY + timedelta(days=25)
    )
    assert clinic_service.remind_expiring_credentials(db.session, TODAY, 30) == 1
    assert len(reminders()) == 2


def test_no_reminder_for_far_expiries_or_unlisted_clinics(app: Flask):
    demo_clinic()
    assert clinic_service.remind_expiring_credentials(db.session, TODAY, 30) == 0


def test_lapsed_licence_is_flagged_in_the_console(staff_client: FlaskClient, staff_user: StaffUser):
    clinic = demo_clinic()
    page = f"/staff/clinics/{clinic.id}"
    submit(
        staff_client,
        page,
        {"code": "licence", "reference": "L-1", "expires_on": "2020-01-31"},
        action=f"{page}/credentials",
    )

    db.session.refresh(clinic)
    assert [c.code for c in clinic.lapsed_credentials(TODAY)] == ["licence"]
    listing = staff_client.get("/staff/clinics?status=approved").get_data(as_text=True)
    assert "licence lapsed on 2020-01-31" in listing
    assert "Not routed to" in staff_client.get(page).get_data(as_text=True)


def test_a_bad_expiry_date_is_refused(staff_client: FlaskClient, staff_user: StaffUser):
    clinic = demo_clinic()
    page = f"/staff/clinics/{clinic.id}"
    response = submit(
        staff_client,
        page,
        {"code": "licence", "expires_on": "31/31/2020"},
        action=f"{page}/credentials",
        follow_redirects=True,
    )
    assert "the date must be a real date" in response.get_data(as_text=True)
