"""A patient withdrawing consent to share their inquiry (PIPA: each recipient is named)."""

from __future__ import annotations

from app.models import Lead
from app.models.base import DbSession, utcnow
from app.services import audit
from app.services.leads import lifecycle


def withdraw_consent(session: DbSession, lead_id: int) -> Lead | None:
    """Stop further routing, take the lead back from its clinics, and tell them.

    A duplicate's confirmation named the clinics of the inquiry it repeats, so withdrawing
    from it withdraws that inquiry too: the patient is told the clinics were told, and they
    are. Withdrawing twice changes nothing the second time.
    """
    lead = session.get(Lead, lead_id, with_for_update=True, populate_existing=True)
    if lead is None:
        return None
    if lead.consent_withdrawn_at is not None:
        session.rollback()
        return lead
    now = utcnow()
    patient = audit.Actor.public("patient")
    withdrawing: Lead | None = lead
    while withdrawing is not None and withdrawing.consent_withdrawn_at is None:
        lifecycle.withdraw(session, withdrawing, patient, now)
        repeated = withdrawing.duplicate_of_id
        withdrawing = session.get(Lead, repeated, with_for_update=True) if repeated else None
    session.commit()
    return lead
