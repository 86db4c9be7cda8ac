"""Destroying a patient's personal data once its purpose is served (PIPA Art. 21).

Anonymising a lead destroys its contact details, message, staff notes, attachment file and
emails; what stays (procedure, country, dates, status, clinic answers) feeds the dashboard
and says nothing about who the patient was. Files are removed after the commit, so a failed
transaction never leaves a lead pointing at a deleted file.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload

from app.models import (
    Assignment,
    Lead,
    LeadMessage,
    LeadNote,
    OutboundEmail,
    PrivacyRequest,
    StaffMessage,
)
from app.models.base import DbSession, rows_changed
from app.services import audit
from app.services.leads import lifecycle
from app.services.privacy import attachments

log = logging.getLogger(__name__)

BATCH = 200
# Loaded with each batch, not lead by lead.
WHAT_ANONYMISING_TOUCHES = (
    selectinload(Lead.assignments).selectinload(Assignment.quote),
    selectinload(Lead.attachments),
)


def anonymise(
    session: DbSession, lead: Lead, now: datetime, erased_by: audit.Actor | None
) -> list[str]:
    """Scrub one lead in the caller's transaction; return the stored files to remove after
    the commit. A lead erased at the patient's request (`erased_by`) is withdrawn first, so
    clinics still holding it lose it and are told; retention only reaches settled leads."""
    if lead.anonymised_at is not None:
        return []
    session.execute(delete(OutboundEmail).where(OutboundEmail.lead_id == lead.id))
    session.execute(delete(LeadNote).where(LeadNote.lead_id == lead.id))
    if erased_by is not None:  # after the emails go: the clinics' notices are new ones
        lifecycle.withdraw(session, lead, erased_by, now)
    stored_names = [attachment.stored_name for attachment in lead.attachments]
    for attachment in lead.attachments:
        session.delete(attachment)
    session.execute(delete(LeadMessage).where(LeadMessage.lead_id == lead.id))
    session.execute(delete(StaffMessage).where(StaffMessage.lead_id == lead.id))
    lead.full_name = ""
    lead.email = ""
    lead.phone = ""
    lead.message = ""
    lead.lost_reason = None
    # What clinics wrote about the patient goes too; that they answered, and when, stays.
    for assignment in lead.assignments:
        assignment.decline_reason = None
        if assignment.quote is not None:
            assignment.quote.note = ""
    lead.submission_id = None
    lead.anonymised_at = now
    return stored_names


def remove_files(upload_dir: str, stored_names: list[list[str]]) -> int:
    """The files of the leads anonymised, one list each, after their commit."""
    removed = 0
    for names in stored_names:
        for name in names:
            attachments.remove(upload_dir, name)
            removed += 1
    return removed


def anonymise_expired(
    session: DbSession, retention_days: int, upload_dir: str, now: datetime
) -> tuple[int, int]:
    """Leads in a final state with no change for `retention_days`; returns (leads, files).

    Each run is one audit event with its counts, even when there was nothing to do.
    """
    cutoff = now - timedelta(days=retention_days)
    leads = files = 0
    while True:
        batch = session.scalars(
            select(Lead)
            .where(
                Lead.status.in_(lifecycle.ENDED),
                Lead.anonymised_at.is_(None),
                Lead.updated_at < cutoff,
            )
            .order_by(Lead.id)
            .limit(BATCH)
            .options(*WHAT_ANONYMISING_TOUCHES)
            .with_for_update(skip_locked=True)
        ).all()
        if not batch:
            break
        stored = [anonymise(session, lead, now, erased_by=None) for lead in batch]
        session.commit()
        leads += len(batch)
        files += remove_files(upload_dir, stored)
    requests = rows_changed(
        session.execute(
            delete(PrivacyRequest).where(
                PrivacyRequest.handled_at.is_not(None), PrivacyRequest.handled_at < cutoff
            )
        )
    )
    audit.record(
        session,
        audit.Actor.system("retention"),
        "retention.anonymised",
        retention=None,
        changes={
            "leads": leads,
            "files": files,
            "requests": requests,
            "cutoff": cutoff.isoformat(),
        },
    )
    session.commit()
    log.info("retention: %d leads anonymised, %d files removed", leads, files)
    return leads, files
