"""A patient withdrawing consent to share their inquiry (PIPA: each recipient is named)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from app.models import Lead, LeadStatus
from app.models.base import utcnow
from app.services import audit, lead_lifecycle


def withdraw_consent(session: Session, lead_id: int) -> Lead | None:
    """Stop further routing, take the lead back from its clinics, and tell them.

    A duplicate's confirmation named the clinics of the inquiry it repeats, so withdrawing
    from it withdraws that inquiry too: the patient is told the clinics were told, and they
    are. Withdrawing twice changes nothing the second time.
    """
    lead = session.get(Lead, lead_id, with_for_update=True)
    if lead is None:
        return None
    if lead.consent_withdrawn_at is not None:
        session.rollback()
        return lead
    now = utcnow()
    patient = audit.Actor.public("patient")
    withdrawing: Lead | None = lead
    while withdrawing is not None and withdrawing.consent_withdrawn_at is None:
        _withdraw(session, withdrawing, patient, now)
        withdrawing = withdrawing.duplicate_of
    session.commit()
    return lead


def _withdraw(session: Session, lead: Lead, patient: audit.Actor, now: datetime) -> None:
    if LeadStatus.WITHDRAWN in lead_lifecycle.TRANSITIONS[lead.status]:
        told = [a.clinic_id for a in lead.assignments if a.revoked_at is None]
        lead_lifecycle.move(
            session,
            lead,
            LeadStatus.WITHDRAWN,
            patient,
            action="lead.consent_withdrawn",
            changes={"clinics_told": told},
            now=now,
        )
        return
    # Already settled (closed, lost, spam, duplicate): no clinic holds it. The consent is
    # recorded, so staff can never route it again.
    lead.consent_withdrawn_at = now
    audit.record(session, patient, "lead.consent_withdrawn", "lead", lead.id, {"clinics_told": []})
