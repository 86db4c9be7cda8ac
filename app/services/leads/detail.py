"""Everything the staff console's lead page shows, read in a fixed number of queries: the
lead with its clinics, their answers, quotes and threads, and staff's messages; its trail
(audit events and staff messages on one timeline), its emails with their state, staff
notes with their author, and who has read the patient's details.

The page is read many times a day for each lead, so nothing on it loads lazily: a lead
with three clinics costs what a lead with none costs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload, undefer

from app.models import (
    Assignment,
    AuditEvent,
    Lead,
    LeadNote,
    OutboundEmail,
    Quote,
    StaffMessage,
)
from app.models.base import DbSession
from app.services import audit

# Reads of a patient's details, by staff or a clinic user: "who has seen this lead".
READ_ACTIONS = ("lead.viewed", "lead.attachment_downloaded")
# Counted (reads) or shown with more than their event says (a staff message, with its text).
_OFF_TIMELINE = (*READ_ACTIONS, "lead.viewed_by_patient", "lead.staff_message_sent")


@dataclass(frozen=True)
class Reader:
    """Someone who opened the lead or downloaded its file, and how often."""

    actor_type: str  # "staff" or "clinic_user"
    label: str
    reads: int
    last_read: datetime


@dataclass(frozen=True)
class TimelineEntry:
    """One thing that happened to the lead: an audit event or a staff message."""

    at: datetime
    who: str
    event: AuditEvent | None = None
    message: StaffMessage | None = None


@dataclass(frozen=True)
class LeadHistory:
    events: Sequence[AuditEvent]  # oldest first
    emails: Sequence[OutboundEmail]  # in the order they were queued
    notes: Sequence[LeadNote]  # oldest first, each with its author
    readers: Sequence[Reader]  # most recent reader first

    def timeline(self, staff_messages: Sequence[StaffMessage]) -> list[TimelineEntry]:
        """Events and the lead's staff messages (loaded with the lead), oldest first; reads
        are left to `readers`, emails to their own list, and a staff message shows with its
        text."""
        entries = [
            TimelineEntry(event.created_at, event.actor_label, event=event)
            for event in self.events
            if event.action not in _OFF_TIMELINE
        ]
        entries += [TimelineEntry(m.created_at, m.author.email, message=m) for m in staff_messages]
        return sorted(entries, key=lambda entry: entry.at)


# What the lead page shows of a lead, loaded with it.
_LEAD_PAGE: tuple[Any, ...] = (
    undefer(Lead.message),
    joinedload(Lead.procedure),
    joinedload(Lead.chosen_clinic),
    joinedload(Lead.duplicate_of),
    selectinload(Lead.attachments),
    selectinload(Lead.staff_messages).joinedload(StaffMessage.author),
    selectinload(Lead.assignments).options(
        joinedload(Assignment.clinic),
        joinedload(Assignment.quote),
        selectinload(Assignment.messages),
    ),
)


@dataclass(frozen=True)
class QuotedAnswer:
    """A clinic's quote as the side-by-side comparison shows it (as on the patient's page)."""

    assignment: Assignment
    quote: Quote
    quote_expired: bool


def lead_for_page(session: DbSession, lead_id: int) -> Lead | None:
    return session.scalar(select(Lead).where(Lead.id == lead_id).options(*_LEAD_PAGE))


def quoted_answers(lead: Lead, today: date) -> list[QuotedAnswer]:
    return [
        QuotedAnswer(a, a.quote, a.quote.valid_until < today)
        for a in lead.assignments
        if a.quote is not None
    ]


def lead_history(session: DbSession, lead_id: int) -> LeadHistory:
    """The lead's trail for its staff page; reading it records nothing (the view does)."""
    events = audit.events_for(session, "lead", lead_id)
    emails = session.scalars(
        select(OutboundEmail).where(OutboundEmail.lead_id == lead_id).order_by(OutboundEmail.id)
    ).all()
    notes = session.scalars(
        select(LeadNote)
        .where(LeadNote.lead_id == lead_id)
        .options(joinedload(LeadNote.author))
        .order_by(LeadNote.id)
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
