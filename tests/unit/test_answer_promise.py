"""What patients are told about the clinics' answer time follows the deadline clinics are held
to (`CLINIC_REROUTE_HOURS` of business hours), not a fixed "two working days"."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import OutboundEmail
from tests.support.application import make_app
from tests.support.emails import rendered
from tests.support.factories import make_clinic, routed_lead


@pytest.mark.parametrize(
    ("overrides", "promise"),
    [
        ({"CLINIC_REROUTE_HOURS": "27"}, "within 3 working days"),
        ({"CLINIC_REROUTE_HOURS": "9"}, "within 1 working day."),
        # The default: 48 business hours of nine-hour days reach into the sixth working day.
        ({}, "within 6 working days"),
        ({"CLINIC_REROUTE_HOURS": "8", "BUSINESS_HOURS": "09:00-13:00"}, "within 2 working days"),
    ],
)
def test_patients_are_promised_the_answer_time_clinics_are_held_to(
    settings: dict[str, str], overrides: dict[str, str], promise: str
):
    app = make_app(settings, **overrides)
    with app.app_context():
        client = app.test_client()
        pages = [client.get(path).get_data(as_text=True) for path in ("/", "/inquire/thanks")]
        make_clinic("Alpha")
        routed_lead(language="en")
        confirmation = rendered(
            db.session.scalar(
                select(OutboundEmail).where(OutboundEmail.template == "patient_confirmation")
            )
        )
        db.session.remove()
        db.drop_all()

    for text in [*pages, confirmation.text, confirmation.html]:
        assert promise in text
        assert "two working days" not in text
