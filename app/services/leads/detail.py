"""Everything the staff console's lead page shows besides the lead itself: its audit trail,
its emails, staff notes, and who has read the patient's details.

One function, so the page makes these four reads in one place and a test can check them
without a request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from app.models import AuditEvent, LeadNote, OutboundEmail
from app.models.base import DbSession
from app.services import audit

# Reads of a patient's details, by staff or a clinic user: "who has seen this lead".
READ_ACTIONS = ("lead.viewed", "lead.attachment_downloaded")


@dataclass(frozen=True)
class Reader:
    """Someone who opened the lead or downloaded its file, and how often."""

    actor_type: str  # "staff" or "clinic_user"
    label: str
    reads: int
    last_read: datetime


@dataclass(frozen=True)
class LeadHistory:
    events: Sequence[AuditEvent]  # oldest first
    emails: Sequence[OutboundEmail]  # in the order they were queued
    notes: Sequence[LeadNote]  # oldest first
    readers: Sequence[Reader]  # most recent reader first


def lead_history(session: DbSession, lead_id: int) -> LeadHistory:
    """The lead's trail for its staff page; reading it records nothing (the view does)."""
    events = audit.events_for(session, "lead", lead_id)
    emails = session.scalars(
        select(OutboundEmail).where(OutboundEmail.lead_id == lead_id).order_by(OutboundEmail.id)
    ).all()
    notes = session.scalars(
        select(LeadNote).where(LeadNote.lead_id == lead_id).order_by(LeadNote.id)
    ).all()
    last_read = func.max(AuditEvent.created_at)
    readers = session.execute(
        select(AuditEvent.actor_type, AuditEvent.actor_label, func.count(), last_read)
        .where(
            AuditEvent.object_type == "lead",
            AuditEvent.object_id == lead_id,
            AuditEvent.action.in_(READ_ACTIONS),
        )
        .group_by(AuditEvent.actor_type, AuditEvent.actor_label)
        .order_by(last_read.desc())
    ).all()
    return LeadHistory(
        events=events,
        emails=emails,
        notes=notes,
        readers=[Reader(*row) for row in readers],
    )
