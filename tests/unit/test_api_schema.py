"""schemathesis against the served /api/v1/openapi.json: generated requests, valid and not,
never get a 5xx, and every answer matches the document. Each operation is called with a key
that may do it: a partner's for inquiries, a staff member's for leads, a clinic's for its
inbox; and the lead operations once more on leads that exist, whose answers carry every
part of the document (assignments, a quote, a lead awaiting the patient's agreement)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.core.parameters import ParameterLocation

from app.extensions import db
from app.services import audit
from app.services.integrations import keys, partners
from tests.support.application import app_settings, make_app
from tests.support.factories import (
    add_quote,
    make_api_key,
    make_clinic,
    make_clinic_user,
    make_lead,
    make_staff,
    offer_lead,
    routed_lead,
)

# schemathesis reads the document when the module is collected, so the app is built here,
# on a database of this module's own.
served = make_app(app_settings(Path(tempfile.mkdtemp(prefix="careroute-api-"))))
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", served)


@dataclass(frozen=True)
class World:
    partner_key: str
    staff_key: str
    clinic_key: str
    quoted_lead: int  # routed to Alpha, which quoted
    offered_lead: int  # offered to Alpha, the patient not yet asked

    def key_for(self, path: str) -> str:
        if path.startswith("/api/v1/clinic/"):
            return self.clinic_key
        if path.startswith("/api/v1/leads"):
            return self.staff_key
        return self.partner_key


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with served.app_context():
        alpha = make_clinic("Alpha", languages=("ko", "en"))
        make_clinic_user(alpha)
        _partner, first = partners.create_partner(
            db.session,
            "Schema Test Partner",
            ["https://partner.example"],
            audit.Actor.system("test"),
        )
        quoted = routed_lead()
        add_quote(quoted.assignments[0], items={"follow_up": {"cover": "separate", "price": 300}})
        offered = make_lead(country="MN")
        offer_lead(offered, make_clinic("Beta"))
        offer_lead(offered, alpha)
        staff = make_staff("schema@careroute.test")
        yield World(
            partner_key=first.secret,
            staff_key=make_api_key(keys.Owner(staff_user_id=staff.id), keys.STAFF_SCOPES),
            clinic_key=make_api_key(keys.Owner(clinic_id=alpha.id), keys.CLINIC_SCOPES),
            quoted_lead=quoted.id,
            offered_lead=offered.id,
        )
        db.session.remove()


def _existing(world: World) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        ("/api/v1/leads", "GET", {"query": {"limit": 1}}),
        ("/api/v1/leads/{lead_id}", "GET", {"path_parameters": {"lead_id": world.quoted_lead}}),
        (
            "/api/v1/leads/{lead_id}",
            "PATCH",
            {"path_parameters": {"lead_id": world.offered_lead}, "body": {"assignee_id": None}},
        ),
        ("/api/v1/clinic/leads", "GET", {}),
        (
            "/api/v1/clinic/leads/{lead_id}/answer",
            "POST",
            {"path_parameters": {"lead_id": world.quoted_lead}, "body": {"response": "contacted"}},
        ),
    ]


def test_answers_about_existing_leads_match_the_document(world: World) -> None:
    """First in the module, before generated requests change these leads."""
    for path, method, parts in _existing(world):
        case = schema[path][method].Case(**parts)
        response = case.call_and_validate(
            headers={"Authorization": f"Bearer {world.key_for(path)}"}
        )
        assert response.status_code == 200, (path, method, response.text)


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_answer_matches_the_document(case: schemathesis.Case, world: World) -> None:
    # The document gives an inquiry's and a quote's types; their rules are the page's form (a
    # phone number valid for the patient's country, a quote valid in the future), which JSON
    # Schema does not hold. A body of the right types may still be refused, by field (422).
    # A case made to go without its key (negative headers) is sent without one.
    leaves_key_out = case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER)
    key = {"Authorization": f"Bearer {world.key_for(case.path)}"}
    case.call_and_validate(
        headers=None if leaves_key_out else key,
        excluded_checks=[schemathesis.checks.positive_data_acceptance],
    )
