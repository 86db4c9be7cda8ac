"""One thread per lead and clinic, written from the patient's page and the clinic's portal.

A message is health data: it is stored encrypted, and the email that tells the other side
holds a link and never the text. Several messages in a row make one notice: a message is
noticed only when its sender's last noticed message in the thread is older than the quiet
time, so a patient writing three short messages sends the clinic one email.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.models import Assignment, ClinicUser, LeadMessage, MessageSender
from app.models.base import DbSession, utcnow
from app.services import audit
from app.services.answers.answering import open_assignment
from app.services.integrations import webhooks
from app.services.leads import emails

MAX_LENGTH = 5000
QUIET_TIME = timedelta(minutes=10)


class MessageRefused(ValueError):
    """The message is empty, too long, or the clinic no longer holds the lead."""


def can_write(assignment: Assignment) -> bool:
    """Either side may write while the clinic holds the lead with the patient's agreement."""
    return assignment.holds_lead and not assignment.awaiting_consent


def from_patient(
    session: DbSession, lead_id: int, assignment_id: int, body: str, now: datetime | None = None
) -> LeadMessage:
    assignment = session.get(Assignment, assignment_id)
    if assignment is None or assignment.lead_id != lead_id:
        raise LookupError("no such clinic for this inquiry")
    return _post(
        session, assignment, MessageSender.PATIENT, None, body, audit.Actor.public("patient"), now
    )


def from_clinic(
    session: DbSession, lead_id: int, user_id: int, body: str, now: datetime | None = None
) -> LeadMessage:
    user = session.get(ClinicUser, user_id)
    assignment = open_assignment(session, lead_id, user.clinic_id) if user else None
    if user is None or assignment is None:
        raise LookupError("no such lead for this clinic")
    return _post(
        session, assignment, MessageSender.CLINIC, user.id, body, audit.Actor.clinic_user(user), now
    )


def _post(
    session: DbSession,
    assignment: Assignment,
    sender: MessageSender,
    user_id: int | None,
    body: str,
    actor: audit.Actor,
    now: datetime | None,
) -> LeadMessage:
    now = now or utcnow()
    text = body.strip()
    if not text or len(text) > MAX_LENGTH:
        raise MessageRefused(
            _l("a message needs some text, up to %(most)d characters", most=MAX_LENGTH)
        )
    if not can_write(assignment):
        raise MessageRefused(_l("this clinic no longer has the inquiry"))
    message = LeadMessage(
        lead_id=assignment.lead_id,
        assignment=assignment,
        sender=sender,
        clinic_user_id=user_id,
        body=text,
        noticed=not _noticed_lately(session, assignment.id, sender, now),
        created_at=now,
    )
    session.add(message)
    session.flush()
    if message.noticed:
        if sender is MessageSender.PATIENT:
            emails.tell_clinic_new_message(session, assignment, message.id)
        else:
            emails.tell_patient_new_message(session, assignment, message.id)
    if sender is MessageSender.PATIENT:
        webhooks.emit(
            session,
            "message.created",
            assignment.lead,
            clinic_ids=[assignment.clinic_id],
            to_partner=False,
            clinic_id=assignment.clinic_id,
            message_id=message.id,
        )
    # Who wrote to whom, never what: the text stays encrypted in its thread.
    audit.record(
        session,
        actor,
        "lead.message_sent",
        lead=assignment.lead_id,
        changes={"clinic_id": assignment.clinic_id, "from": sender.value},
    )
    session.commit()
    return message


def _noticed_lately(
    session: DbSession, assignment_id: int, sender: MessageSender, now: datetime
) -> bool:
    return (
        session.scalar(
            select(LeadMessage.id)
            .where(
                LeadMessage.assignment_id == assignment_id,
                LeadMessage.sender == sender,
                LeadMessage.noticed.is_(True),
                LeadMessage.created_at > now - QUIET_TIME,
            )
            .limit(1)
        )
        is not None
    )
