"""A patient withdrawing consent to share their inquiry (PIPA: each recipient is named)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.models import Lead
from app.models.base import utcnow
from app.services import audit, lead_emails, routing


def withdraw_consent(session: Session, lead_id: int) -> Lead | None:
    """Stop further routing, hide the lead from the clinics that had it, and tell them.

    Withdrawing twice changes nothing the second time.
    """
    lead = session.get(Lead, lead_id, with_for_update=True)
    if lead is None:
        return None
    if lead.consent_withdrawn_at is not None:
        session.rollback()
        return lead
    now = utcnow()
    lead.consent_withdrawn_at = now
    told = []
    for assignment in routing.revoke(session, lead.assignments, now):
        lead_emails.tell_clinic_consent_withdrawn(session, assignment)
        told.append(assignment.clinic_id)
    audit.record(
        session,
        audit.Actor.public("patient"),
        "lead.consent_withdrawn",
        "lead",
        lead.id,
        {"clinics_told": told},
    )
    session.commit()
    return lead
