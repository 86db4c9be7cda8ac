"""What the worker does with a new lead: dedup, route, and queue the emails."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import joinedload

from app import task_names
from app.encryption import data_keys
from app.models import Lead, LeadStatus
from app.models.base import DbSession, utcnow
from app.services import audit
from app.services.integrations import webhooks
from app.services.leads import assignment_rules, emails, lifecycle, routing
from app.services.mail.delivery import DeliveryPolicy, Outgoing, sent_after_commit
from app.services.outbox import enqueue_task

log = logging.getLogger(__name__)

DUPLICATE_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class ProcessingPolicy:
    max_clinics: int
    max_attempts: int = 3


# The worker's statements for every lead are built once, with the lead's values bound at
# each run: building and keying a statement cost as much as running it (bench/README.md).
_EARLIER_LEAD_OF_SAME_PERSON = (
    select(Lead)
    .where(
        Lead.id < bindparam("lead_id"),
        Lead.procedure_id == bindparam("procedure_id"),
        or_(
            Lead.email == bindparam("email"),
            Lead.phone_digest.in_(bindparam("phone_digests", expanding=True)),
        ),
        Lead.created_at >= bindparam("since"),
        Lead.status.in_(lifecycle.ACTIVE),
        Lead.consent_withdrawn_at.is_(None),
    )
    .order_by(Lead.id)
    .limit(1)
)


def find_duplicate(session: DbSession, lead: Lead) -> Lead | None:
    """The earliest live lead of the same person (email or phone) for the same procedure
    in the 30 days before this one. Only earlier leads count, so two leads processed at
    once never mark each other; only active ones with consent given, so a patient who
    withdrew or whose inquiry was settled can ask again and be heard."""
    return session.scalar(
        _EARLIER_LEAD_OF_SAME_PERSON,
        {
            "lead_id": lead.id,
            "procedure_id": lead.procedure_id,
            "email": lead.email,
            "phone_digests": data_keys().digests(lead.phone),
            "since": lead.created_at - DUPLICATE_WINDOW,
        },
    )


def _needs_processing(lead: Lead) -> bool:
    return (
        lead.processed_at is None
        and lead.status is LeadStatus.NEW
        and lead.consent_withdrawn_at is None
        and not lead.processing_failed
    )


_COUNT_ATTEMPT = (
    update(Lead)
    .where(
        Lead.id == bindparam("lead_id"),
        Lead.processed_at.is_(None),
        Lead.status == LeadStatus.NEW,
        Lead.consent_withdrawn_at.is_(None),
        Lead.processing_failed.is_(False),
        Lead.processing_attempts < bindparam("max_attempts"),
    )
    .values(processing_attempts=Lead.processing_attempts + 1)
    .returning(Lead.id)
    .execution_options(synchronize_session=False)
)


def _count_attempt(session: DbSession, lead_id: int, max_attempts: int) -> bool:
    """One conditional UPDATE: the lead still needs processing and has attempts left."""
    counted = session.execute(
        _COUNT_ATTEMPT, {"lead_id": lead_id, "max_attempts": max_attempts}
    ).first()
    return counted is not None


def _give_up_if_out_of_attempts(session: DbSession, lead_id: int, max_attempts: int) -> None:
    lead = session.get(Lead, lead_id, with_for_update=True)
    if lead is None or not _needs_processing(lead) or lead.processing_attempts < max_attempts:
        session.rollback()
        return
    lead.processing_failed = True
    audit.record(
        session,
        audit.Actor.system("routing"),
        "lead.processing_failed",
        lead=lead.id,
        changes={"attempts": lead.processing_attempts},
    )
    session.commit()
    log.error("lead %s: processing gave up after %d attempts", lead.id, lead.processing_attempts)


def process_lead(
    session: DbSession,
    lead_id: int,
    policy: ProcessingPolicy,
    now: datetime | None = None,
    *,
    send_here: DeliveryPolicy | None = None,
) -> Outgoing:
    """Idempotent: a lead already processed, withdrawn, spam or given up on is left alone.

    The attempt is counted and committed first, so a lead whose processing kills the
    worker every time is flagged for staff after `max_attempts` instead of looping.
    With `send_here`, the lead's emails are committed claimed by the caller and built,
    for the caller to send next (`delivery.send_outgoing`).
    """
    now = now or utcnow()
    if not _count_attempt(session, lead_id, policy.max_attempts):
        _give_up_if_out_of_attempts(session, lead_id, policy.max_attempts)
        return Outgoing()
    session.commit()

    lead = (
        session.execute(
            select(Lead)
            .where(Lead.id == lead_id)
            # What routing and the emails read of the lead, in the statement that locks it.
            .options(joinedload(Lead.procedure, innerjoin=True), joinedload(Lead.assignments))
            .with_for_update(of=Lead)
            .execution_options(populate_existing=True)
        )
        .unique()
        .scalar_one_or_none()
    )
    if lead is None or not _needs_processing(lead):
        session.rollback()
        return Outgoing()
    duplicate_of = None if lead.dedup_overruled else find_duplicate(session, lead)
    assignments = (
        []
        if duplicate_of is not None
        else routing.assign(session, lead, policy.max_clinics, now.date(), now, shared=True)
    )
    actor = audit.Actor.system("routing")
    # Every change to the lead after routing's statements, which would flush it: the lead
    # is written once, when the next statement (its status move or audit event) flushes it.
    lead.processed_at = now
    if duplicate_of is not None:
        lead.duplicate_of = duplicate_of
        changes: dict[str, object] = {"duplicate_of": duplicate_of.id}
        lifecycle.move(
            session, lead, LeadStatus.DUPLICATE, actor, action="lead.duplicate", changes=changes
        )
    else:
        lead.no_matching_clinic = not assignments
        changes = {"clinics": [a.clinic_id for a in assignments]}
        if assignments:
            lifecycle.move(
                session, lead, LeadStatus.ROUTED, actor, action="lead.routed", changes=changes
            )
        else:
            audit.record(session, actor, "lead.no_matching_clinic", lead=lead.id, changes=changes)
        assignment_rules.assign_by_rules(session, lead)
    with sent_after_commit(session, send_here) as outgoing:
        for assignment in assignments:
            emails.notify_clinic(session, assignment)
        emails.confirm_to_patient(session, lead, now)
    if assignments:
        clinics = [a.clinic_id for a in assignments]
        webhooks.emit(session, "lead.routed", lead, clinic_ids=clinics, routed_to=clinics)
    session.commit()
    return outgoing


def offer_to_next_clinic(
    session: DbSession, lead: Lead, max_clinics: int, now: datetime
) -> list[int]:
    """After a clinic declined or went silent: the next best clinics that have not had the
    lead take the free places (same ranking), each once the patient agrees to it. With none
    left and no clinic holding the lead, staff see it under "no matching clinic". The
    caller holds the lead's row lock."""
    if lead.consent_withdrawn_at is not None or lead.status not in lifecycle.AWAITING_CLINICS:
        return []
    added = routing.assign(session, lead, max_clinics, now.date(), now, shared=False)
    for assignment in added:
        emails.ask_patient_to_share(session, assignment)
    if not any(a.holds_lead for a in lead.assignments):
        lead.no_matching_clinic = True
    return [a.clinic_id for a in added]


def redrive_stuck_leads(session: DbSession, stale_after: timedelta, now: datetime) -> int:
    """Queue processing again for leads whose message was lost (broker down, Redis emptied)."""
    cutoff = now - stale_after
    stuck = session.scalars(
        select(Lead.id)
        .where(
            Lead.status == LeadStatus.NEW,
            Lead.processed_at.is_(None),
            Lead.processing_failed.is_(False),
            Lead.consent_withdrawn_at.is_(None),
            Lead.updated_at < cutoff,
        )
        # A lead a worker holds is being processed right now: leave it to that worker.
        .with_for_update(skip_locked=True)
    ).all()
    for lead_id in stuck:
        enqueue_task(session, task_names.PROCESS_LEAD, lead_id)
    if stuck:
        session.execute(update(Lead).where(Lead.id.in_(stuck)).values(updated_at=now))
    return len(stuck)
