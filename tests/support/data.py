"""Fictional form answers used across tests."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from app.reference_data import QUOTE_PARTS
from app.services.clinics.onboarding import brn_check_digit

VALID_BRN = "220810" + "555" + str(brn_check_digit("220810555"))
# A second clinic's number: one number is listed once.
SECOND_BRN = "220810" + "556" + str(brn_check_digit("220810556"))


def clinic_application(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "clinic_name": "Bukhansan Knee Test Clinic",
        "contact_name": "Dr. Test Kim",
        "email": "Apply@Bukhansan-Test.example.com",
        "phone": "02-555-0199",
        "website": "bukhansan-test.example.com",
        "address": "1 Test-ro",
        "district": "Gangnam-gu",
        "city": "Seoul",
        "registration_number": f"{VALID_BRN[:3]}-{VALID_BRN[3:5]}-{VALID_BRN[5:]}",
        "license_number": "TEST-LIC-001",
        "languages": ["ko", "en"],
        "procedures": ["autologous-msc-injection", "prp-knee"],
        "accreditations": ["foreign-patient-provider"],
        "description": "A fictional clinic for tests.",
        "terms": "y",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


PDF_BYTES = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG_BYTES = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489")


def inquiry(**changes: Any) -> dict[str, Any]:
    """A fictional patient's answers, as the form posts them."""
    data: dict[str, Any] = {
        "full_name": "Aigerim Testova",
        "email": "Aigerim.Testova@example.com",
        "phone": "+7 701 555 0101",
        "country": "KZ",
        "language": "ru",
        "procedure": "autologous-msc-injection",
        "message": "My right knee has hurt for three years; my doctor says grade 3 arthritis.",
        "budget_usd": "15000",
        "travel_from": "2027-03-01",
        "travel_to": "2027-03-20",
        "needs_interpreter": "y",
        "consent": "y",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def quote_answers(**changes: str) -> dict[str, str]:
    """A KRW quote sent from the portal's form, including every part unless `changes` say
    otherwise."""
    data = {
        "quote-price_min": "9000000",
        "quote-price_max": "12000000",
        "quote-currency": "KRW",
        "quote-includes": "Consultation, MRI, two injections, one follow-up visit",
        "quote-stay_nights": "10",
        "quote-valid_until": (date.today() + timedelta(days=60)).isoformat(),
        "quote-note": "Our coordinator speaks Russian.",
        **{f"quote-items-{part}-cover": "included" for part in QUOTE_PARTS},
    }
    return {**data, **changes}
