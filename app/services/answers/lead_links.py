"""The link in a clinic's notice to its lead's portal page, made and checked side by side.

A signed-in clinic reaches its leads without it; the link only lets the portal explain, to
the clinic it was sent to, why a lead that moved on is no longer there (for 90 days).
"""

from __future__ import annotations

from app.models import Assignment
from app.models.base import DbSession
from app.services.links import sign, unsign

PURPOSE = "portal-lead"
EXPLAINS_FOR = 90 * 24 * 3600


def lead_link_token(assignment: Assignment) -> str:
    return sign(PURPOSE, {"assignment": assignment.id})


def assignment_for_lead_link(
    session: DbSession, token: str, lead_id: int, clinic_id: int
) -> Assignment:
    """The clinic's own assignment the link was sent for, or LookupError for anything else
    (`InvalidLink`, another lead, another clinic's link)."""
    payload = unsign(PURPOSE, token, max_age=EXPLAINS_FOR)
    assignment = session.get(Assignment, payload.get("assignment"))
    if assignment is None or assignment.lead_id != lead_id or assignment.clinic_id != clinic_id:
        raise LookupError("no such lead for this clinic")
    return assignment
