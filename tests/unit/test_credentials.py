"""Credential expiry: lapsed clinics are flagged and unlisted, reminders go once per expiry
date, expired accreditations are not shown."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.models import Clinic, Lead, LeadStatus, OutboundEmail, StaffUser
from app.models.base import utcnow
from app.reference_data import CREDENTIAL_LABELS
from app.services.clinics import credentials
from tests.support.checks import count, field_error
from tests.support.data import inquiry
from tests.support.factories import make_clinic
from tests.support.forms import submit

TODAY = date(2026, 11, 25)


def credentialed_clinic(
    name: str, today: date, accreditations: tuple[str, ...] = ("foreign-patient-provider",)
) -> Clinic:
    """A listed clinic whose licence, insurance and `accreditations` are good for months
    after `today`."""
    return make_clinic(
        name,
        licence_expires=today + timedelta(days=700),
        insured_until=today + timedelta(days=200),
        accreditations={code: today + timedelta(days=900) for code in accreditations},
    )


def listed_clinic() -> Clinic:
    return credentialed_clinic("Alpha", TODAY)


def reminders() -> list[OutboundEmail]:
    return list(
        db.session.scalars(
            select(OutboundEmail).where(OutboundEmail.template == "credential_expiring")
        )
    )


def test_reminder_goes_once_per_expiry_date(app: Flask, staff_user: StaffUser):
    clinic = listed_clinic()
    credentials.set_credential(
        db.session, clinic.id, staff_user.id, "insurance", "P-1", TODAY + timedelta(days=20)
    )

    assert credentials.remind_expiring_credentials(db.session, TODAY, 30) == 1
    assert credentials.remind_expiring_credentials(db.session, TODAY, 30) == 0
    assert credentials.remind_expiring_credentials(db.session, TODAY + timedelta(days=1), 30) == 0
    assert [e.recipient for e in reminders()] == [clinic.email]

    credentials.set_credential(
        db.session, clinic.id, staff_user.id, "insurance", "P-2", TODAY + timedelta(days=25)
    )
    assert credentials.remind_expiring_credentials(db.session, TODAY, 30) == 1
    assert len(reminders()) == 2


def test_no_reminder_for_far_expiries_or_unlisted_clinics(app: Flask):
    listed_clinic()
    assert credentials.remind_expiring_credentials(db.session, TODAY, 30) == 0


def test_lapsed_licence_is_flagged_in_the_console(staff_client: FlaskClient, staff_user: StaffUser):
    clinic = listed_clinic()
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
    clinic = listed_clinic()
    page = f"/staff/clinics/{clinic.id}"
    response = submit(
        staff_client,
        page,
        {"code": "licence", "expires_on": "31/31/2020"},
        action=f"{page}/credentials",
        follow_redirects=True,
    )
    assert "the date must be a real date" in response.get_data(as_text=True)


def listed_clinics(today: date) -> tuple[Clinic, Clinic]:
    """Two clinics listed as of `today`: the first is about to lapse, the other not (and holds
    three accreditations)."""
    first = credentialed_clinic("Alpha", today)
    other = credentialed_clinic("Bravo", today, ("koiha", "jci", "foreign-patient-provider"))
    return first, other


def expire(clinic: Clinic, code: str, on: date) -> None:
    credential = next(c for c in clinic.credentials if c.code == code)
    credential.expires_on = on
    db.session.commit()


@pytest.mark.parametrize("code", ["licence", "insurance"])
def test_a_clinic_whose_licence_or_insurance_lapsed_is_not_listed_publicly(
    client: FlaskClient, code: str
):
    today = utcnow().date()
    lapsed, other = listed_clinics(today)
    expire(lapsed, code, today - timedelta(days=1))

    listing = client.get("/clinics").get_data(as_text=True)
    assert other.name in listing
    assert lapsed.name not in listing
    assert client.get(f"/clinics/{lapsed.slug}").status_code == 404
    assert client.get(f"/clinics/{lapsed.slug}/inquire").status_code == 404


def test_a_clinic_whose_licence_expires_today_is_still_listed(client: FlaskClient):
    today = utcnow().date()
    clinic, _ = listed_clinics(today)
    expire(clinic, "licence", today)

    assert clinic.name in client.get("/clinics").get_data(as_text=True)
    assert client.get(f"/clinics/{clinic.slug}/inquire").status_code == 200


def test_an_inquiry_choosing_a_lapsed_clinic_is_refused_next_to_the_clinic(
    client: FlaskClient,
):
    today = utcnow().date()
    lapsed, _ = listed_clinics(today)
    expire(lapsed, "insurance", today - timedelta(days=1))

    response = submit(client, "/inquire", inquiry(clinic=lapsed.slug))

    assert response.status_code == 422
    assert "not taking inquiries through CareRoute" in field_error(
        response.get_data(as_text=True), "clinic"
    )
    assert count(Lead) == 0


def test_expired_accreditations_are_not_shown_on_the_public_profile(client: FlaskClient):
    today = utcnow().date()
    listed_clinics(today)
    clinic = max(db.session.scalars(select(Clinic)), key=lambda c: len(c.accreditations))
    expired, current = clinic.accreditations[:2]
    expire(clinic, expired.code, today - timedelta(days=1))

    html = client.get(f"/clinics/{clinic.slug}").get_data(as_text=True)
    with client.application.test_request_context():
        assert str(CREDENTIAL_LABELS[current.code]) in html
        assert str(CREDENTIAL_LABELS[expired.code]) not in html


def test_a_patient_whose_clinic_lapsed_while_writing_keeps_the_answers_and_can_ask_others(
    client: FlaskClient,
):
    today = utcnow().date()
    lapsed, _ = listed_clinics(today)
    page = f"/clinics/{lapsed.slug}/inquire"
    assert client.get(page).status_code == 200
    expire(lapsed, "licence", today - timedelta(days=1))

    # The form opened before the licence lapsed is sent after (its page is gone by now).
    refused = submit(client, "/inquire", inquiry(clinic=lapsed.slug), action=page)

    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "other clinics" in field_error(html, "clinic")
    assert 'value="Aigerim Testova"' in html
    assert 'name="clinic" type="hidden" value=""' in html
    assert count(Lead) == 0

    again = submit(client, "/inquire", inquiry(clinic=""), action=page)
    assert again.status_code == 302
    lead = db.session.scalar(select(Lead))
    assert (lead.status, lead.chosen_clinic_id) == (LeadStatus.NEW, None)
