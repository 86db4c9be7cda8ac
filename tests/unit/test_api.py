"""The JSON API under /api/v1: keys, the inquiry a partner's system sends, the catalogue,
and errors as problem documents."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.models import ApiKey, Lead, LeadStatus, Partner
from app.services import audit
from app.services.integrations import keys, partners
from tests.support.checks import count
from tests.support.factories import make_clinic, make_clinic_user

PATIENT = {
    "full_name": "Saule Testova",
    "email": "saule.testova@example.com",
    "phone": "+77015550123",
    "country": "KZ",
    "language": "ru",
    "procedure": "autologous-msc-injection",
    "message": "My right knee hurts on stairs since last winter; an MRI shows grade 3 wear.",
    "needs_visa_letter": True,
    "consent": True,
}


@pytest.fixture
def partner_key(app: Flask) -> str:
    _partner, first = partners.create_partner(
        db.session, "Silk Road Health Blog", ["https://blog.example"], audit.Actor.system("test")
    )
    return first.secret


def send(client: FlaskClient, key: str, body: dict[str, Any], **headers: str) -> Any:
    return client.post(
        "/api/v1/inquiries", json=body, headers={"Authorization": f"Bearer {key}", **headers}
    )


def test_the_openapi_document_describes_what_is_served(client: FlaskClient):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    assert {"/api/v1/inquiries", "/api/v1/procedures", "/api/v1/clinics"} <= set(document["paths"])
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_a_partners_inquiry_is_stored_with_its_source(client: FlaskClient, partner_key: str):
    response = send(client, partner_key, PATIENT)

    assert response.status_code == 201
    lead = db.session.scalar(select(Lead))
    assert response.get_json() == {"reference": lead.reference}
    assert (lead.source, lead.status, lead.needs_visa_letter) == ("partner", LeadStatus.NEW, True)
    assert lead.partner_id == db.session.scalar(select(Partner.id))


def test_one_idempotency_key_makes_one_lead(client: FlaskClient, partner_key: str):
    first = send(client, partner_key, PATIENT, **{"Idempotency-Key": "order-1"})
    again = send(client, partner_key, PATIENT, **{"Idempotency-Key": "order-1"})
    other = send(client, partner_key, PATIENT, **{"Idempotency-Key": "order-2"})

    assert first.status_code == again.status_code == other.status_code == 201
    assert first.get_json() == again.get_json() != other.get_json()
    assert count(Lead) == 2


def test_the_forms_rules_answer_by_field_and_nothing_is_stored(
    client: FlaskClient, partner_key: str
):
    response = send(client, partner_key, {**PATIENT, "email": "not an address", "consent": False})

    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == 422 and set(problem["errors"]) == {"email", "consent"}
    assert count(Lead) == 0


def test_a_body_of_the_wrong_shape_is_refused_by_field(client: FlaskClient, partner_key: str):
    response = send(client, partner_key, {**PATIENT, "budget_usd": "a lot", "colour": "red"})

    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"budget_usd", "colour"}
    assert count(Lead) == 0


def test_no_key_a_wrong_key_or_a_revoked_key_is_refused(client: FlaskClient, partner_key: str):
    assert client.post("/api/v1/inquiries", json=PATIENT).status_code == 401
    assert send(client, partner_key + "x", PATIENT).status_code == 401
    [key] = db.session.scalars(select(ApiKey)).all()
    keys.revoke(
        db.session, key.id, audit.Actor.system("test"), keys.Owner(partner_id=key.partner_id)
    )
    refused = send(client, partner_key, PATIENT)

    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert refused.content_type == "application/problem+json"
    assert count(Lead) == 0


def test_a_key_without_the_scope_is_refused(client: FlaskClient):
    clinic = make_clinic("Alpha")
    user = make_clinic_user(clinic)
    clinic_key = keys.create_key(
        db.session,
        "Alpha CRM",
        keys.CLINIC_SCOPES,
        audit.Actor.clinic_user(user),
        keys.Owner(clinic_id=clinic.id),
    )
    response = send(client, clinic_key.secret, PATIENT)
    assert response.status_code == 403 and count(Lead) == 0


def test_the_catalogue_is_public(client: FlaskClient):
    make_clinic("Alpha", languages=("ko", "ru"))
    procedures = client.get("/api/v1/procedures").get_json()
    clinics = client.get("/api/v1/clinics").get_json()

    assert "autologous-msc-injection" in {p["slug"] for p in procedures}
    [alpha] = clinics
    assert alpha["slug"] == "alpha" and alpha["languages"] == ["ko", "ru"]
    assert alpha["offerings"][0]["procedure"] == "autologous-msc-injection"
    assert "email" not in alpha and "registration_number" not in alpha


def test_a_partner_is_registered_from_the_command_line(app: Flask, client: FlaskClient):
    result = app.test_cli_runner().invoke(
        args=["partner", "create", "Steppe Travel", "--origin", "https://steppe.example/"]
    )
    lines = result.output.splitlines()
    assert result.exit_code == 0 and lines[0].startswith("public id: ")
    key = lines[1].removeprefix("API key: ")
    assert send(client, key, PATIENT).status_code == 201
    refused = app.test_cli_runner().invoke(
        args=["partner", "create", "Bad", "--origin", "https://x.example/page"]
    )
    assert refused.exit_code != 0 and "not an origin" in refused.output
