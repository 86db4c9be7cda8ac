"""The patient's say over which clinic sees their inquiry.

The clinics of the first routing are named in the confirmation and share the details at
once; the patient may stop sharing with any of them from their page. A clinic offered the
lead later (after a decline, a missed deadline, a staff re-route) is named to the patient
first and sees nothing but the procedure and country until the patient agrees; silence for
CONSENT_WAIT_HOURS means no.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.models import Assignment, Lead, RevokedReason
from app.models.base import DbSession, utcnow
from app.services import audit
from app.services.leads import emails, routing

PATIENT = audit.Actor.public("patient")


class SharingRefused(ValueError):
    """The clinic's place cannot change now (its agreement was already given, or it is gone)."""


def _assignment(session: DbSession, lead_id: int, assignment_id: int) -> Assignment:
    """The clinic's place on the lead, with the lead's row locked for the change."""
    lead = session.get(Lead, lead_id, with_for_update=True)
    assignment = session.get(Assignment, assignment_id)
    if lead is None or assignment is None or assignment.lead_id != lead.id:
        session.rollback()
        raise LookupError("no such clinic for this inquiry")
    return assignment


def agree(
    session: DbSession, lead_id: int, assignment_id: int, now: datetime | None = None
) -> None:
    """The clinic gets the details and its notice now; its answer clock starts then."""
    assignment = _assignment(session, lead_id, assignment_id)
    if not (assignment.awaiting_consent and assignment.is_open):
        session.rollback()
        raise SharingRefused(_l("this clinic is no longer waiting for your answer"))
    assignment.shared_at = now or utcnow()
    emails.notify_clinic(session, assignment)
    audit.record(
        session,
        PATIENT,
        "lead.sharing_agreed",
        lead=lead_id,
        changes={"clinic_id": assignment.clinic_id},
    )
    session.commit()


def stop(session: DbSession, lead_id: int, assignment_id: int, now: datetime | None = None) -> None:
    """Refusing a clinic that waits for agreement, or stopping one that has the details
    (it is told, as on a full withdrawal). A confirmed booking is not undone from here."""
    assignment = _assignment(session, lead_id, assignment_id)
    if not assignment.holds_lead or assignment.confirmed_at is not None:
        session.rollback()
        raise SharingRefused(_l("this clinic no longer has your inquiry, or has booked you"))
    waiting = assignment.awaiting_consent
    reason = RevokedReason.CONSENT_REFUSED if waiting else RevokedReason.PATIENT_STOPPED
    routing.revoke(session, [assignment], now or utcnow(), reason)
    if not waiting:
        emails.tell_clinic_consent_withdrawn(session, assignment)
    audit.record(
        session,
        PATIENT,
        f"lead.{reason.value}",
        lead=lead_id,
        changes={"clinic_id": assignment.clinic_id},
    )
    session.commit()


def expire_unanswered(session: DbSession, wait: timedelta, now: datetime) -> int:
    """No answer in time is no: the clinic never sees the lead, and staff see why on it."""
    due = session.scalars(
        select(Assignment)
        .where(
            Assignment.consent_requested_at < now - wait,
            Assignment.shared_at.is_(None),
            Assignment.revoked_at.is_(None),
        )
        .with_for_update(skip_locked=True)
    ).all()
    for assignment in due:
        routing.revoke(session, [assignment], now, RevokedReason.CONSENT_EXPIRED)
        if not any(a.holds_lead for a in assignment.lead.assignments):
            assignment.lead.no_matching_clinic = True
        audit.record(
            session,
            audit.Actor.system("sharing"),
            "lead.consent_expired",
            lead=assignment.lead_id,
            changes={"clinic_id": assignment.clinic_id},
        )
    session.commit()
    return len(due)
