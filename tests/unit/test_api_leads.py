"""Leads through the JSON API: staff systems list, read and triage them as the console does;
clinic systems read their inbox and answer as the portal does; each key only as its owner."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Clinic, ClinicUser, LeadStatus, Quote, StaffUser
from app.services.integrations import keys
from tests.support.clock import NOW
from tests.support.factories import (
    make_api_key,
    make_clinic,
    make_clinic_user,
    make_lead,
    offer_lead,
    procedure,
    routed_lead,
)


def call(client: FlaskClient, method: str, path: str, key: str, **kwargs: Any) -> Any:
    return client.open(
        f"/api/v1{path}", method=method, headers={"Authorization": f"Bearer {key}"}, **kwargs
    )


def audited(action: str) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    return list(db.session.scalars(query))


@pytest.fixture
def staff_key(staff_user: StaffUser) -> str:
    return make_api_key(keys.Owner(staff_user_id=staff_user.id), keys.STAFF_SCOPES)


@pytest.fixture
def alpha(app: Flask) -> Clinic:
    return make_clinic("Alpha")


@pytest.fixture
def alpha_user(alpha: Clinic) -> ClinicUser:
    """Alpha's own account (its registered address), which its keys act as."""
    return make_clinic_user(alpha)


@pytest.fixture
def clinic_key(alpha: Clinic, alpha_user: ClinicUser) -> str:
    return make_api_key(keys.Owner(clinic_id=alpha.id), keys.CLINIC_SCOPES)


# --- staff ----------------------------------------------------------------------------------


def test_staff_list_leads_by_the_consoles_filters_page_by_page(client: FlaskClient, staff_key: str):
    made = [
        make_lead(country="MN", language="mn", created_at=NOW - timedelta(hours=hours))
        for hours in (3, 2, 1)
    ]
    make_lead(country="KZ")

    filtered = call(client, "GET", "/leads?country=mn&limit=2", staff_key).get_json()
    rest = call(
        client, "GET", f"/leads?country=mn&limit=2&cursor={filtered['next_cursor']}", staff_key
    ).get_json()

    assert [lead["id"] for lead in filtered["items"]] == [made[2].id, made[1].id]
    assert [lead["id"] for lead in rest["items"]] == [made[0].id]
    assert rest["next_cursor"] is None
    assert "message" not in filtered["items"][0] and "email" not in filtered["items"][0]


@pytest.mark.parametrize(
    "query", ["limit=101", "status=lost-in-space", "created_from=yesterday", "stauts=new"]
)
def test_a_filter_that_makes_no_sense_is_a_problem(client: FlaskClient, staff_key: str, query):
    response = call(client, "GET", f"/leads?{query}", staff_key)
    assert response.status_code == 422 and response.content_type == "application/problem+json"


def test_reading_a_lead_is_audited_as_in_the_console(
    client: FlaskClient, staff_key: str, staff_user: StaffUser, alpha: Clinic
):
    lead = routed_lead(message="Both knees ache after long walks.")

    response = call(client, "GET", f"/leads/{lead.id}", staff_key)

    body = response.get_json()
    assert response.status_code == 200
    assert body["message"] == "Both knees ache after long walks."
    assert [(a["clinic"], a["response"]) for a in body["assignments"]] == [("Alpha", None)]
    [viewed] = audited("lead.viewed")
    assert (viewed.object_id, viewed.actor_type, viewed.actor_id) == (
        lead.id,
        "staff",
        staff_user.id,
    )


def test_a_lead_that_does_not_exist_is_404_and_nothing_is_audited(
    client: FlaskClient, staff_key: str
):
    assert call(client, "GET", "/leads/999", staff_key).status_code == 404
    assert audited("lead.viewed") == []


def test_a_status_change_goes_through_the_life_cycle(
    client: FlaskClient, staff_key: str, staff_user: StaffUser
):
    lead = make_lead()

    refused = call(client, "PATCH", f"/leads/{lead.id}", staff_key, json={"status": "lost"})
    changed = call(
        client,
        "PATCH",
        f"/leads/{lead.id}",
        staff_key,
        json={"status": "lost", "reason": "Chose a clinic at home", "assignee_id": staff_user.id},
    )

    assert refused.status_code == 409
    assert "a lost lead needs a reason" in refused.get_json()["detail"]
    assert changed.status_code == 200
    assert (changed.get_json()["status"], changed.get_json()["assignee_id"]) == (
        "lost",
        staff_user.id,
    )
    [moved] = audited("lead.status_changed")
    assert moved.changes["status"] == ["new", "lost"] and moved.actor_id == staff_user.id


def test_a_refused_move_changes_nothing_it_came_with(
    client: FlaskClient, staff_key: str, staff_user: StaffUser
):
    lead = make_lead()

    response = call(
        client,
        "PATCH",
        f"/leads/{lead.id}",
        staff_key,
        json={"status": "quoted", "assignee_id": staff_user.id},
    )

    assert response.status_code == 409
    assert "cannot become quoted" in response.get_json()["detail"]
    db.session.expire_all()
    assert (lead.status, lead.assigned_to_id) == (LeadStatus.NEW, None)
    assert audited("lead.assigned") == []


# --- clinics --------------------------------------------------------------------------------


def test_a_clinic_sees_only_its_own_leads_and_each_read_is_audited(
    client: FlaskClient, clinic_key: str, alpha_user: ClinicUser
):
    make_clinic("Beta", offers="aci")
    ours = routed_lead(message="My left knee clicks.")
    theirs = routed_lead(procedure=procedure("aci"))

    inbox = call(client, "GET", "/clinic/leads", clinic_key).get_json()

    [line] = inbox["items"]
    assert (line["lead_id"], line["patient"]["message"]) == (ours.id, "My left knee clicks.")
    assert inbox["next_page"] is None
    [viewed] = audited("lead.viewed")
    assert (viewed.object_id, viewed.actor_type, viewed.actor_id) == (
        ours.id,
        "clinic_user",
        alpha_user.id,
    )
    answered = call(
        client,
        "POST",
        f"/clinic/leads/{theirs.id}/answer",
        clinic_key,
        json={"response": "contacted"},
    )
    assert answered.status_code == 404


def test_a_lead_awaiting_the_patients_agreement_shows_procedure_and_country_only(
    client: FlaskClient, clinic_key: str, alpha: Clinic
):
    lead = make_lead(country="MN")
    offer_lead(lead, alpha)

    [line] = call(client, "GET", "/clinic/leads", clinic_key).get_json()["items"]

    assert (line["procedure"], line["country"]) == ("autologous-msc-injection", "MN")
    assert line["awaiting_consent"] is True and line["patient"] is None
    assert audited("lead.viewed") == []
    answered = call(
        client,
        "POST",
        f"/clinic/leads/{lead.id}/answer",
        clinic_key,
        json={"response": "contacted"},
    )
    assert answered.status_code == 404


QUOTE = {
    "price_min": 9000,
    "price_max": 12000,
    "currency": "USD",
    "includes": "Injection, MRI and two follow-ups",
    "stay_nights": 7,
    "valid_until": (NOW + timedelta(days=3650)).date().isoformat(),
    "items": {
        "diagnostics": {"cover": "included"},
        "follow_up": {"cover": "separate", "price": 300},
    },
}


def test_a_clinic_answers_with_a_quote_as_its_main_account(
    client: FlaskClient, clinic_key: str, alpha_user: ClinicUser
):
    lead = routed_lead()

    response = call(
        client,
        "POST",
        f"/clinic/leads/{lead.id}/answer",
        clinic_key,
        json={"response": "quoted", "quote": QUOTE},
    )

    assert response.status_code == 200 and response.get_json()["response"] == "quoted"
    quote = db.session.scalar(select(Quote))
    assert (quote.price_min, quote.price_max, quote.stay_nights) == (9000, 12000, 7)
    assert quote.items == {
        "diagnostics": {"cover": "included", "price": None},
        "follow_up": {"cover": "separate", "price": 300},
    }
    db.session.expire_all()
    assert lead.status is LeadStatus.QUOTED
    [answered] = audited("lead.clinic_answered")
    assert (answered.actor_type, answered.actor_id) == ("clinic_user", alpha_user.id)


def test_a_quote_is_checked_by_the_portals_rules(client: FlaskClient, clinic_key: str):
    lead = routed_lead()
    wrong = {**QUOTE, "price_max": 10, "items": {"follow_up": {"cover": "separate"}}}

    response = call(
        client,
        "POST",
        f"/clinic/leads/{lead.id}/answer",
        clinic_key,
        json={"response": "quoted", "quote": wrong},
    )

    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"quote.price_max", "quote.items.follow_up.price"}
    assert db.session.scalar(select(Quote)) is None


def test_declining_needs_a_reason(client: FlaskClient, clinic_key: str):
    lead = routed_lead()
    path = f"/clinic/leads/{lead.id}/answer"

    refused = call(client, "POST", path, clinic_key, json={"response": "declined"})
    declined = call(
        client, "POST", path, clinic_key, json={"response": "declined", "reason": "No MRI slot"}
    )

    assert refused.status_code == 422 and set(refused.get_json()["errors"]) == {"reason"}
    assert declined.status_code == 200


# --- whose key ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/leads"), ("GET", "/leads/1"), ("PATCH", "/leads/1")],
)
def test_a_clinic_key_does_no_staff_work(client: FlaskClient, clinic_key: str, method, path):
    assert call(client, method, path, clinic_key, json={}).status_code == 403


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/clinic/leads"), ("POST", "/clinic/leads/1/answer")]
)
def test_a_staff_key_does_no_clinic_work(client: FlaskClient, staff_key: str, method, path):
    body = {"response": "contacted"}
    assert call(client, method, path, staff_key, json=body).status_code == 403


def test_a_key_acts_only_as_its_owner_whatever_its_scopes(
    client: FlaskClient, staff_user: StaffUser, alpha: Clinic, alpha_user: ClinicUser
):
    everything = (*keys.STAFF_SCOPES, *keys.CLINIC_SCOPES)
    staff_key = make_api_key(keys.Owner(staff_user_id=staff_user.id), everything)
    clinic_key = make_api_key(keys.Owner(clinic_id=alpha.id), everything)

    assert call(client, "GET", "/clinic/leads", staff_key).status_code == 403
    assert call(client, "GET", "/leads", clinic_key).status_code == 403


def test_a_clinic_without_its_main_account_cannot_act_by_key(
    client: FlaskClient, clinic_key: str, alpha_user: ClinicUser
):
    alpha_user.active = False
    db.session.commit()

    response = call(client, "GET", "/clinic/leads", clinic_key)

    assert response.status_code == 403 and "portal account" in response.get_json()["detail"]
