"""Staff writing to a patient from the lead's page: the message waits on the patient's page,
and the patient is emailed a link to it through the outbox.

The first message stops staff's first-response clock. The form carries a one-time id, so
a double click or a resent form finds the message it already made: one message, one email.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.models import Lead, StaffMessage, StaffUser
from app.models.base import DbSession, utcnow
from app.services import audit
from app.services.conversations.threads import MAX_LENGTH, MessageRefused
from app.services.leads import emails


def can_write_to(lead: Lead) -> bool:
    """Anyone with an address left: an erased lead has none."""
    return lead.anonymised_at is None and bool(lead.email)


def send_to_patient(
    session: DbSession,
    lead_id: int,
    staff_id: int,
    body: str,
    submission_id: str,
    now: datetime | None = None,
) -> StaffMessage:
    now = now or utcnow()
    staff = session.get(StaffUser, staff_id)
    # Locked, so the same form sent twice at once waits here and then finds the first.
    lead = session.get(Lead, lead_id, with_for_update=True, populate_existing=True)
    if staff is None or lead is None:
        raise LookupError("no such lead or staff member")
    earlier = session.scalar(
        select(StaffMessage).where(
            StaffMessage.submission_id == submission_id, StaffMessage.lead_id == lead.id
        )
    )
    if earlier is not None:
        session.rollback()
        return earlier
    text = body.strip()
    if not text or len(text) > MAX_LENGTH:
        raise MessageRefused(
            _l("a message needs some text, up to %(most)d characters", most=MAX_LENGTH)
        )
    if not can_write_to(lead):
        raise MessageRefused(_l("this patient's details were erased"))
    message = StaffMessage(
        lead_id=lead.id,
        staff_user_id=staff.id,
        body=text,
        submission_id=submission_id,
        created_at=now,
    )
    session.add(message)
    session.flush()
    if lead.staff_responded_at is None:
        lead.staff_responded_at = now
    emails.tell_patient_staff_message(session, lead, message.id)
    # Who wrote to the patient, never what: the text stays encrypted on the patient's page.
    audit.record(
        session,
        audit.Actor.staff(staff),
        "lead.staff_message_sent",
        lead=lead.id,
        changes={"message_id": message.id},
    )
    session.commit()
    return message
