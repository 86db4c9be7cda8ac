"""Keys made by people: a staff member's own, a partner's (by admins), a clinic's (in the
portal). Each is shown once, works at once, and stops working when revoked."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.models import ApiKey, AuditEvent, Clinic
from app.services import audit
from app.services.integrations import partners
from tests.support.factories import STAFF_PASSWORD, make_clinic, make_clinic_user, make_staff
from tests.support.forms import post, submit
from tests.support.portal import sign_in

NEW_KEY = re.compile(r'id="new-key" value="(cr_[^"]+)"')


def made_key(page: str) -> str:
    match = NEW_KEY.search(page)
    assert match, "the new key is not on the page"
    return match.group(1)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def revoke(client: FlaskClient, page: str, url: str) -> int:
    return post(client, url, {}, page=page).status_code


def test_a_staff_member_makes_a_key_that_is_shown_once_and_works(
    staff_client: FlaskClient, client: FlaskClient
):
    made = submit(
        staff_client,
        "/staff/api-keys",
        {"name": "Reporting script", "scopes": ["leads:read"]},
    )
    key = made_key(made.text)
    again = staff_client.get("/staff/api-keys").text
    row = db.session.scalar(select(ApiKey))

    assert made.status_code == 200 and made.headers["Cache-Control"] == "no-store"
    assert key not in again and f"cr_{row.prefix}_" in again and "Reporting script" in again
    assert row.scopes == ["leads:read"]
    assert client.get("/api/v1/leads", headers=bearer(key)).status_code == 200
    assert client.patch("/api/v1/leads/1", json={}, headers=bearer(key)).status_code == 403


def test_a_revoked_key_is_refused(staff_client: FlaskClient, client: FlaskClient):
    key = made_key(
        submit(staff_client, "/staff/api-keys", {"name": "Old", "scopes": ["leads:read"]}).text
    )
    row = db.session.scalar(select(ApiKey))

    assert revoke(staff_client, "/staff/api-keys", f"/staff/api-keys/{row.id}/revoke") == 302

    assert client.get("/api/v1/leads", headers=bearer(key)).status_code == 401
    assert "Old" not in staff_client.get("/staff/api-keys").text
    assert db.session.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc())) == (
        "api_key.revoked"
    )


def test_a_key_needs_a_name_and_what_it_may_do(staff_client: FlaskClient):
    response = submit(staff_client, "/staff/api-keys", {"name": "", "scopes": []})

    assert response.status_code == 422
    assert "Please name the key" in response.text and "Please choose at least one" in response.text
    assert db.session.scalar(select(ApiKey)) is None


def test_nobody_revokes_another_staff_members_key(staff_client: FlaskClient, app: Flask):
    other = app.test_client()
    make_staff("other@careroute.test")
    submit(other, "/staff/login", {"email": "other@careroute.test", "password": STAFF_PASSWORD})
    submit(other, "/staff/api-keys", {"name": "Theirs", "scopes": ["leads:read"]})
    theirs = db.session.scalar(select(ApiKey))

    assert "Theirs" not in staff_client.get("/staff/api-keys").text
    assert revoke(staff_client, "/staff/api-keys", f"/staff/api-keys/{theirs.id}/revoke") == 404
    db.session.refresh(theirs)
    assert theirs.revoked_at is None


def test_an_admin_makes_and_revokes_a_partners_key(admin_client: FlaskClient, client: FlaskClient):
    partner, first = partners.create_partner(
        db.session, "Steppe Travel", ["https://steppe.example"], audit.Actor.system("test")
    )
    page = admin_client.get("/staff/partners").text
    assert "https://steppe.example" in page and f"cr_{first.key.prefix}_" in page

    made = submit(
        admin_client,
        "/staff/partners",
        {f"partner-{partner.id}-name": "Booking site"},
        action=f"/staff/partners/{partner.id}/keys",
    )
    key = made_key(made.text)
    row = db.session.scalar(select(ApiKey).where(ApiKey.name == "Booking site"))

    assert row.partner_id == partner.id and row.scopes == ["inquiries:write", "webhooks"]
    assert client.get("/api/v1/leads", headers=bearer(key)).status_code == 403  # live, no scope
    url = f"/staff/partners/{partner.id}/keys/{row.id}/revoke"
    assert revoke(admin_client, "/staff/partners", url) == 302
    assert client.get("/api/v1/leads", headers=bearer(key)).status_code == 401


def test_only_admins_manage_partners(staff_client: FlaskClient):
    assert staff_client.get("/staff/partners").status_code == 403


@pytest.fixture
def alpha(app: Flask) -> Clinic:
    clinic = make_clinic("Alpha")
    make_clinic_user(clinic)
    return clinic


def test_a_clinic_user_makes_a_key_for_the_clinic(app: Flask, client: FlaskClient, alpha: Clinic):
    colleague = make_clinic_user(alpha, "colleague@clinic.example.com")
    portal = sign_in(app.test_client(), colleague.email)

    key = made_key(submit(portal, "/portal/team/api-keys", {"name": "Our CRM"}).text)

    row = db.session.scalar(select(ApiKey))
    assert (row.clinic_id, row.scopes) == (alpha.id, ["clinic:leads", "webhooks"])
    assert key not in portal.get("/portal/team/api-keys").text
    assert client.get("/api/v1/clinic/leads", headers=bearer(key)).status_code == 200
    assert client.get("/api/v1/leads", headers=bearer(key)).status_code == 403


def test_another_clinic_cannot_revoke_it(app: Flask, client: FlaskClient, alpha: Clinic):
    ours = sign_in(app.test_client(), alpha.email)
    submit(ours, "/portal/team/api-keys", {"name": "Our CRM"})
    row = db.session.scalar(select(ApiKey))
    beta = make_clinic("Beta")
    theirs = sign_in(app.test_client(), make_clinic_user(beta).email)

    url = f"/portal/team/api-keys/{row.id}/revoke"
    assert revoke(theirs, "/portal/team/api-keys", url) == 404
    assert revoke(ours, "/portal/team/api-keys", url) == 302
    db.session.refresh(row)
    assert row.revoked_at is not None
