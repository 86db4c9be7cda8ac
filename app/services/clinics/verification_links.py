"""The link that proves a clinic reads its address, made and checked side by side.

It carries the address itself, so a clinic that changed its address before following the
link verifies nothing.
"""

from __future__ import annotations

from app.models import Clinic
from app.services.links import sign, unsign

PURPOSE = "clinic-email"


def clinic_verification_token(clinic: Clinic) -> str:
    return sign(PURPOSE, {"clinic": clinic.id, "email": clinic.email})


def verification_for_token(token: str) -> tuple[int, str]:
    """(clinic id, address) the link was sent for, or `InvalidLink`."""
    payload = unsign(PURPOSE, token)
    return int(payload["clinic"]), str(payload["email"])
