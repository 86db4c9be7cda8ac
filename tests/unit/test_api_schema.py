"""schemathesis against the served /api/v1/openapi.json: generated requests, valid and not,
never get a 5xx, and every answer matches the document."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from app.extensions import db
from app.services import audit
from app.services.integrations import partners
from tests.support.application import app_settings, make_app
from tests.support.factories import make_clinic

# schemathesis reads the document when the module is collected, so the app is built here,
# on a database of this module's own.
served = make_app(app_settings(Path(tempfile.mkdtemp(prefix="careroute-api-"))))
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", served)


@pytest.fixture(scope="module")
def partner_key() -> Iterator[str]:
    with served.app_context():
        make_clinic("Alpha", languages=("ko", "en"))
        _partner, first = partners.create_partner(
            db.session,
            "Schema Test Partner",
            ["https://partner.example"],
            audit.Actor.system("test"),
        )
        yield first.secret
        db.session.remove()


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_answer_matches_the_document(case: schemathesis.Case, partner_key: str) -> None:
    # The document gives an inquiry's types; its rules are the inquiry form's (a phone number
    # valid for the patient's country, a procedure in the catalogue), which JSON Schema does
    # not hold. A body of the right types may still be refused, by field, with a 422.
    case.call_and_validate(
        headers={"Authorization": f"Bearer {partner_key}"},
        excluded_checks=[schemathesis.checks.positive_data_acceptance],
    )
