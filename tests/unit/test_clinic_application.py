"""The public clinic application form (/clinics/join)."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.models import (
    AuditEvent,
    Clinic,
    ClinicStatus,
    ClinicUser,
    CredentialKind,
    OutboundEmail,
    OutboxMessage,
    StaffUser,
)
from app.services.clinics import onboarding, review
from tests.support.checks import count, field_error
from tests.support.data import VALID_BRN, clinic_application
from tests.support.forms import submit


def test_valid_application_stores_a_pending_clinic_and_queues_two_emails(client: FlaskClient):
    response = submit(client, "/clinics/join", clinic_application())

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/clinics/join/thanks")
    clinic = db.session.scalar(select(Clinic))
    assert clinic.status is ClinicStatus.PENDING
    assert clinic.email == "apply@bukhansan-test.example.com"
    assert clinic.phone == "+8225550199"
    assert clinic.website == "https://bukhansan-test.example.com"
    assert clinic.registration_number == VALID_BRN
    assert clinic.license_number == "TEST-LIC-001"
    assert clinic.language_codes == ["en", "ko"]
    assert {o.procedure.slug for o in clinic.offerings} == {"autologous-msc-injection", "prp-knee"}
    assert [c.code for c in clinic.accreditations] == ["foreign-patient-provider"]
    emails = db.session.scalars(select(OutboundEmail).order_by(OutboundEmail.id)).all()
    assert [(e.template, e.recipient) for e in emails] == [
        ("clinic_verify", "apply@bukhansan-test.example.com"),
        ("staff_new_clinic", "staff@careroute.local"),
    ]
    assert [m.task for m in db.session.scalars(select(OutboxMessage))] == ["mail.send"] * 2
    event = db.session.scalar(select(AuditEvent))
    assert (event.action, event.object_id) == ("clinic.applied", clinic.id)


BAD_INPUTS = [
    ("clinic_name", "", "Please enter the clinic's name."),
    ("contact_name", "  ", "Please tell us who we should contact."),
    ("email", "", "Please enter an email address."),
    ("email", "not-an-email", "Please enter a valid email address"),
    ("email", "someone@", "Please enter a valid email address"),
    ("phone", "", "Please enter a phone number."),
    ("phone", "12345", "Please enter a valid phone number"),
    ("phone", "+82 2 1", "Please enter a valid phone number"),
    ("website", "not a website", "Please enter the website address"),
    ("website", "ftp://clinic.example", "Please enter the website address"),
    ("address", "", "Please enter the street address."),
    ("district", "", "Please enter the district"),
    ("city", "", "Please enter the city."),
    ("registration_number", "", "Please enter the business registration number."),
    ("registration_number", "123-45-678", "this number is not valid"),
    (
        "registration_number",
        VALID_BRN[:9] + str((int(VALID_BRN[9]) + 1) % 10),
        "this number is not valid",
    ),
    ("registration_number", "12a4567890", "this number is not valid"),
    ("license_number", "", "Please enter the medical institution licence number."),
    ("languages", None, "Please choose at least one language."),
    ("languages", ["xx"], "is not a valid choice"),
    ("procedures", None, "Please choose at least one procedure you offer."),
    ("procedures", ["brain-transplant"], "is not a valid choice"),
    ("accreditations", ["made-up-award"], "is not a valid choice"),
    ("description", "x" * 5001, "Please keep the description under 5,000 characters."),
    ("terms", None, "Please accept the listing terms to apply."),
]


@pytest.mark.parametrize(("field", "value", "message"), BAD_INPUTS)
def test_bad_input_is_refused_next_to_its_field_and_nothing_is_stored(
    client: FlaskClient, field: str, value: object, message: str
):
    data = clinic_application(**{field: value})
    if value is None:
        data.pop(field, None)

    response = submit(client, "/clinics/join", data)

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in field_error(html, field)
    # The other answers are kept.
    if field != "clinic_name":
        assert 'value="Bukhansan Knee Test Clinic"' in html
    assert count(Clinic) == 0
    assert count(OutboundEmail) == 0
    assert count(OutboxMessage) == 0
    assert count(AuditEvent) == 0


def test_email_of_a_live_clinic_is_refused(client: FlaskClient):
    assert submit(client, "/clinics/join", clinic_application()).status_code == 302

    response = submit(
        client, "/clinics/join", clinic_application(clinic_name="Another Test Clinic")
    )

    assert response.status_code == 422
    assert "already applied or is listed" in response.get_data(as_text=True)
    assert count(Clinic) == 1


def test_a_rejected_clinic_may_apply_again_with_the_same_email(
    client: FlaskClient, staff_user: StaffUser
):
    assert submit(client, "/clinics/join", clinic_application()).status_code == 302
    first = db.session.scalar(select(Clinic))
    review.reject(db.session, first.id, staff_user.id, "The licence could not be found.")

    assert submit(client, "/clinics/join", clinic_application()).status_code == 302
    assert count(Clinic) == 2
    accounts = db.session.scalars(select(ClinicUser).order_by(ClinicUser.id)).all()
    assert [(u.clinic_id, u.active) for u in accounts] == [
        (first.id, False),
        (first.id + 1, True),
    ]


def test_post_without_csrf_token_is_refused_and_stores_nothing(client: FlaskClient):
    response = client.post("/clinics/join", data=clinic_application())

    assert response.status_code == 400
    assert "nothing was saved" in response.get_data(as_text=True)
    assert count(Clinic) == 0


def test_post_with_a_forged_csrf_token_is_refused(client: FlaskClient):
    client.get("/clinics/join")
    response = client.post("/clinics/join", data={**clinic_application(), "csrf_token": "forged"})

    assert response.status_code == 400
    assert count(Clinic) == 0


def test_the_licence_is_kept_as_a_credential(client: FlaskClient):
    submit(client, "/clinics/join", clinic_application())
    clinic = db.session.scalar(select(Clinic))
    licence = clinic.credential(CredentialKind.LICENCE)
    assert licence is not None and licence.reference == "TEST-LIC-001"


def test_every_input_on_the_form_has_a_label(client: FlaskClient):
    html = client.get("/clinics/join").get_data(as_text=True)
    ids = re.findall(r'<(?:input|textarea|select)[^>]*\bid="([^"]+)"', html)
    labelled = set(re.findall(r'<label for="([^"]+)"', html))
    assert ids and set(ids) - {"csrf_token"} <= labelled


def test_a_registration_number_already_applied_or_listed_is_refused_next_to_it(
    client: FlaskClient,
):
    assert submit(client, "/clinics/join", clinic_application()).status_code == 302

    response = submit(
        client,
        "/clinics/join",
        clinic_application(
            clinic_name="Another Test Clinic",
            email="other@another-test.example.com",
            registration_number=VALID_BRN,
        ),
    )

    assert response.status_code == 422
    message = field_error(response.get_data(as_text=True), "registration_number")
    assert "already applied or is listed" in message
    assert field_error(response.get_data(as_text=True), "email") == ""
    assert count(Clinic) == 1
    assert count(OutboundEmail) == 2


def test_the_registration_number_of_a_rejected_clinic_may_apply_again(
    client: FlaskClient, staff_user: StaffUser
):
    assert submit(client, "/clinics/join", clinic_application()).status_code == 302
    first = db.session.scalar(select(Clinic))
    review.reject(db.session, first.id, staff_user.id, "The licence could not be found.")

    response = submit(
        client, "/clinics/join", clinic_application(email="new@bukhansan-test.example.com")
    )

    assert response.status_code == 302
    assert count(Clinic) == 2


def test_the_service_refuses_a_registration_number_in_use(client: FlaskClient):
    assert submit(client, "/clinics/join", clinic_application()).status_code == 302
    application = onboarding.ClinicApplication(
        clinic_name="Another Test Clinic",
        contact_name="Dr. Other",
        email="other@another-test.example.com",
        phone="+8225550198",
        website=None,
        address="2 Test-ro",
        district="Gangnam-gu",
        city="Seoul",
        registration_number=VALID_BRN,
        license_number="TEST-LIC-002",
        languages=["ko"],
        procedures=["prp-knee"],
        accreditations=[],
        description="",
    )

    with pytest.raises(onboarding.ClinicRegistrationTaken):
        onboarding.submit_application(db.session, application, "staff@careroute.local")
    assert count(Clinic) == 1
