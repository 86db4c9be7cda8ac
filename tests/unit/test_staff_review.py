"""Staff sign-in and clinic application review."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Clinic, ClinicStatus, OutboundEmail, StaffUser
from app.services.clinics import onboarding, review
from tests.support.application import make_app
from tests.support.data import clinic_application
from tests.support.emails import rendered
from tests.support.factories import STAFF_PASSWORD
from tests.support.forms import csrf_token, submit


def pending_clinic(client: FlaskClient) -> Clinic:
    submit(client, "/clinics/join", clinic_application())
    return db.session.scalar(select(Clinic))


def approved_clinic(client: FlaskClient, staff_user: StaffUser) -> Clinic:
    clinic = pending_clinic(client)
    onboarding.verify_email(db.session, clinic.id, clinic.email)
    return review.approve(db.session, clinic.id, staff_user.id)


def test_anonymous_visitor_is_sent_to_sign_in(client: FlaskClient):
    response = client.get("/staff/clinics")
    assert response.status_code == 302
    assert "/staff/login?next=/staff/clinics" in response.headers["Location"]


def test_unknown_email_and_wrong_password_get_the_same_message(
    client: FlaskClient, staff_user: StaffUser
):
    wrong = submit(client, "/staff/login", {"email": staff_user.email, "password": "nope-nope"})
    unknown = submit(
        client, "/staff/login", {"email": "nobody@careroute.test", "password": STAFF_PASSWORD}
    )
    assert wrong.status_code == unknown.status_code == 401
    message = "That email and password do not match an active account."
    assert message in wrong.get_data(as_text=True)
    assert message in unknown.get_data(as_text=True)
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert actions.count("staff.login_failed") == 2


def test_sign_in_renews_the_session_and_next_stays_on_site(
    client: FlaskClient, staff_user: StaffUser
):
    client.get("/staff/login")
    before = client.get_cookie("session").value
    response = submit(
        client,
        "/staff/login?next=//evil.example/x",
        {"email": staff_user.email, "password": STAFF_PASSWORD},
    )
    assert response.headers["Location"] == "/staff/clinics"
    assert client.get_cookie("session").value != before
    assert client.get("/staff/clinics").status_code == 200


def test_logout_ends_the_session_server_side(staff_client: FlaskClient):
    old_cookie = staff_client.get_cookie("session").value
    token = csrf_token(staff_client, "/staff/clinics")
    staff_client.post("/staff/logout", data={"csrf_token": token})

    staff_client.set_cookie("session", old_cookie)
    response = staff_client.get("/staff/clinics")
    assert response.status_code == 302
    assert "/staff/login" in response.headers["Location"]


def test_sign_in_attempts_are_limited(settings: dict[str, str], staff_user: StaffUser):
    client = make_app(settings, LOGIN_RATE_LIMIT="3 per minute").test_client()
    codes = [
        submit(client, "/staff/login", {"email": staff_user.email, "password": "wrong"}).status_code
        for _ in range(4)
    ]
    assert codes == [401, 401, 401, 429]


def test_approving_lists_the_clinic_and_queues_the_approval_email(
    client: FlaskClient, staff_client: FlaskClient, staff_user: StaffUser
):
    clinic = pending_clinic(client)
    assert client.get(f"/clinics/{clinic.slug}").status_code == 404
    onboarding.verify_email(db.session, clinic.id, clinic.email)

    page = f"/staff/clinics/{clinic.id}"
    response = submit(staff_client, page, {}, action=f"{page}/approve")

    assert response.status_code == 302
    db.session.refresh(clinic)
    assert clinic.status is ClinicStatus.APPROVED
    assert clinic.reviewed_by_id == staff_user.id
    assert (
        db.session.scalar(
            select(OutboundEmail).where(OutboundEmail.template == "clinic_approved")
        ).recipient
        == clinic.email
    )
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "clinic.approved"))
    assert (event.actor_type, event.actor_id) == ("staff", staff_user.id)
    listing = client.get(f"/clinics/{clinic.slug}")
    assert listing.status_code == 200
    assert "Bukhansan Knee Test Clinic" in client.get("/clinics").get_data(as_text=True)


def test_rejecting_needs_a_reason_and_emails_it(
    client: FlaskClient, staff_client: FlaskClient, staff_user: StaffUser
):
    clinic = pending_clinic(client)
    page = f"/staff/clinics/{clinic.id}"

    submit(staff_client, page, {"reason": ""}, action=f"{page}/reject")
    db.session.refresh(clinic)
    assert clinic.status is ClinicStatus.PENDING

    submit(
        staff_client,
        page,
        {"reason": "Licence number not found in the registry."},
        action=f"{page}/reject",
    )
    db.session.refresh(clinic)
    assert clinic.status is ClinicStatus.REJECTED
    assert clinic.status_reason == "Licence number not found in the registry."
    assert (
        db.session.scalar(select(OutboundEmail).where(OutboundEmail.template == "clinic_rejected"))
        is not None
    )
    assert client.get(f"/clinics/{clinic.slug}").status_code == 404
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "clinic.rejected"))
    assert event.actor_id == staff_user.id
    assert event.changes["reason"] == "Licence number not found in the registry."


def test_a_rejected_clinic_cannot_be_approved(
    app: Flask, client: FlaskClient, staff_user: StaffUser
):
    clinic = pending_clinic(client)
    review.reject(db.session, clinic.id, staff_user.id, "No licence.")
    with pytest.raises(review.InvalidTransition):
        review.approve(db.session, clinic.id, staff_user.id)
    db.session.refresh(clinic)
    assert clinic.status is ClinicStatus.REJECTED


def test_staff_action_without_csrf_token_is_refused(client: FlaskClient, staff_client: FlaskClient):
    clinic = pending_clinic(client)
    response = staff_client.post(f"/staff/clinics/{clinic.id}/approve")
    assert response.status_code == 400
    db.session.refresh(clinic)
    assert clinic.status is ClinicStatus.PENDING


def test_application_list_shows_pending_clinics_with_counts(
    client: FlaskClient, staff_client: FlaskClient
):
    pending_clinic(client)
    html = staff_client.get("/staff/clinics").get_data(as_text=True)
    assert "Bukhansan Knee Test Clinic" in html
    assert "Pending (1)" in html
    assert "not verified" in html


def test_suspension_reason_is_emailed_to_the_clinic(
    client: FlaskClient, staff_client: FlaskClient, staff_user: StaffUser
):
    clinic = approved_clinic(client, staff_user)
    page = f"/staff/clinics/{clinic.id}"
    reason = "Your malpractice insurance certificate <2026> has not reached us."

    submit(staff_client, page, {"reason": reason}, action=f"{page}/suspend")

    db.session.refresh(clinic)
    assert clinic.status is ClinicStatus.SUSPENDED
    email = db.session.scalar(
        select(OutboundEmail).where(OutboundEmail.template == "clinic_suspended")
    )
    assert email is not None and email.recipient == clinic.email
    message = rendered(email)
    assert clinic.name in message.subject
    assert reason in message.text
    assert "Your malpractice insurance certificate &lt;2026&gt; has not reached us." in message.html


def test_a_clinic_that_has_not_verified_its_email_cannot_be_approved(
    client: FlaskClient, staff_client: FlaskClient
):
    clinic = pending_clinic(client)
    page = f"/staff/clinics/{clinic.id}"
    review_page = staff_client.get(page).get_data(as_text=True)
    assert "Approve and list" not in review_page
    assert "has not confirmed its email address" in review_page

    response = submit(staff_client, page, {}, action=f"{page}/approve", follow_redirects=True)

    assert "has not confirmed its email address" in response.get_data(as_text=True)
    db.session.refresh(clinic)
    assert clinic.status is ClinicStatus.PENDING
    approvals = select(OutboundEmail).where(OutboundEmail.template == "clinic_approved")
    assert db.session.scalar(approvals) is None


def test_the_service_refuses_to_approve_an_unverified_email(
    app: Flask, client: FlaskClient, staff_user: StaffUser
):
    clinic = pending_clinic(client)
    with pytest.raises(review.EmailNotVerified):
        review.approve(db.session, clinic.id, staff_user.id)


def copy_of(clinic: Clinic, email: str) -> Clinic:
    """A second live clinic with the same registration number (as stored before the join
    form checked it)."""
    twin = Clinic(
        slug=f"{clinic.slug}-twin",
        name=f"{clinic.name} Twin",
        contact_name=clinic.contact_name,
        email=email,
        email_verified_at=clinic.email_verified_at,
        phone=clinic.phone,
        address=clinic.address,
        district=clinic.district,
        city=clinic.city,
        registration_number=clinic.registration_number,
        status=ClinicStatus.PENDING,
    )
    db.session.add(twin)
    db.session.commit()
    return twin


@pytest.mark.parametrize("listed_as", [ClinicStatus.APPROVED, ClinicStatus.SUSPENDED])
def test_a_clinic_cannot_be_approved_while_another_has_its_registration_number(
    client: FlaskClient,
    staff_client: FlaskClient,
    staff_user: StaffUser,
    listed_as: ClinicStatus,
):
    listed = approved_clinic(client, staff_user)
    if listed_as is ClinicStatus.SUSPENDED:
        review.suspend(db.session, listed.id, staff_user.id, "Insurance renewal.")
    twin = copy_of(listed, "twin@bukhansan-test.example.com")
    page = f"/staff/clinics/{twin.id}"
    assert "same business registration number" in staff_client.get(page).get_data(as_text=True)

    response = submit(staff_client, page, {}, action=f"{page}/approve", follow_redirects=True)

    assert "same business registration number" in response.get_data(as_text=True)
    db.session.refresh(twin)
    assert twin.status is ClinicStatus.PENDING


def test_a_rejected_clinic_does_not_block_its_registration_number(
    client: FlaskClient, staff_user: StaffUser
):
    first = pending_clinic(client)
    onboarding.verify_email(db.session, first.id, first.email)
    twin = copy_of(first, "twin@bukhansan-test.example.com")
    review.reject(db.session, first.id, staff_user.id, "Applied twice.")

    assert review.approve(db.session, twin.id, staff_user.id).status is (ClinicStatus.APPROVED)
