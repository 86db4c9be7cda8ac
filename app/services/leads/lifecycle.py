"""The lead's life cycle: its statuses, the moves between them, and what each move implies.

Every change of a lead's status goes through `move`, so a move the table does not allow is
refused instead of written, every move is audited, and what a move promises (clinics lose a
settled lead; a lead put back to new is routed) happens in the same transaction.

    new ─▶ routed ─▶ contacted ─▶ quoted ─▶ booked ─▶ closed
     side exits from the active part: duplicate, spam, lost, withdrawn (and closed early)
     spam ─▶ new and duplicate ─▶ new: staff found a real, distinct inquiry
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l

from app import task_names
from app.models import OPEN_STATUSES, Lead, LeadStatus, RevokedReason
from app.models.base import DbSession, utcnow
from app.services import audit
from app.services.integrations import webhooks
from app.services.leads import emails, routing
from app.services.leads.response_clock import staff_due_at
from app.services.outbox import enqueue_task

S = LeadStatus

# Being worked on: the lead may still hold clinics.
ACTIVE = frozenset(OPEN_STATUSES)
# Settled: no clinic holds the lead; retention counts from here.
ENDED = frozenset(LeadStatus) - ACTIVE
# Waiting on clinics: deadlines run and a declined or silent place goes to the next clinic.
AWAITING_CLINICS = frozenset({S.ROUTED, S.CONTACTED, S.QUOTED})

TRANSITIONS: Mapping[LeadStatus, frozenset[LeadStatus]] = {
    S.NEW: frozenset({S.ROUTED, S.DUPLICATE, S.SPAM, S.LOST, S.CLOSED, S.WITHDRAWN}),
    S.ROUTED: frozenset(
        {S.CONTACTED, S.QUOTED, S.BOOKED, S.DUPLICATE, S.SPAM, S.LOST, S.CLOSED, S.WITHDRAWN}
    ),
    S.CONTACTED: frozenset({S.QUOTED, S.BOOKED, S.LOST, S.CLOSED, S.WITHDRAWN}),
    S.QUOTED: frozenset({S.BOOKED, S.LOST, S.CLOSED, S.WITHDRAWN}),
    S.BOOKED: frozenset({S.LOST, S.CLOSED, S.WITHDRAWN}),
    S.CLOSED: frozenset(),
    S.LOST: frozenset(),
    S.WITHDRAWN: frozenset(),
    S.SPAM: frozenset({S.NEW}),
    S.DUPLICATE: frozenset({S.NEW}),
}
# Routing alone says a lead is routed: a staff member adds clinics instead.
NOT_CHOSEN_BY_STAFF = frozenset({S.ROUTED})


class TransitionRefused(ValueError):
    """The table does not allow this move, or the move lacks what it needs (a reason).

    Its message is translated when shown, in the language of the page that shows it."""


def staff_choices(lead: Lead) -> list[LeadStatus]:
    """The statuses a staff member may move this lead to, in the cycle's order."""
    allowed = TRANSITIONS[lead.status] - NOT_CHOSEN_BY_STAFF
    if lead.consent_withdrawn_at is not None:
        allowed -= {S.NEW}
    return [status for status in LeadStatus if status in allowed]


def can_take_clinics(lead: Lead) -> bool:
    """Clinics may be added by hand while the lead is active and shared with consent."""
    return lead.status in ACTIVE and lead.consent_withdrawn_at is None


def move(
    session: DbSession,
    lead: Lead,
    to: LeadStatus,
    actor: audit.Actor,
    *,
    reason: str | None = None,
    action: str = "lead.status_changed",
    changes: Mapping[str, object] | None = None,
    now: datetime | None = None,
) -> bool:
    """Move the lead (the caller holds its row lock and commits); False if it is there.

    The audit event carries the move and `changes`, never the reason's text: a reason may
    hold health details, and it is kept encrypted on the lead.
    """
    before = lead.status
    if to is before:
        return False
    if to not in TRANSITIONS[before]:
        raise TransitionRefused(
            _l(
                "a lead that is %(before)s cannot become %(after)s",
                before=before.value,
                after=to.value,
            )
        )
    reason = (reason or "").strip() or None
    if to is S.LOST and reason is None:
        raise TransitionRefused(_l("a lost lead needs a reason"))
    if to is S.NEW and lead.consent_withdrawn_at is not None:
        raise TransitionRefused(_l("the patient withdrew consent"))
    now = now or utcnow()
    lead.status = to
    lead.lost_reason = reason if to is S.LOST else None
    if to in ENDED:
        _settle(session, lead, now)
    elif before in ENDED:
        _reopen(session, lead, now)
    audit.record(
        session,
        actor,
        action,
        lead=lead.id,
        changes={**(changes or {}), "status": [before.value, to.value]},
    )
    webhooks.emit(session, "lead.status_changed", lead, before=before.value, status=to.value)
    return True


def withdraw(session: DbSession, lead: Lead, actor: audit.Actor, now: datetime) -> None:
    """The patient's consent ends (their link, or their erasure request): an active lead
    moves to withdrawn and its clinics are told; a settled one keeps its status, and the
    consent recorded keeps it from ever being reopened."""
    if lead.consent_withdrawn_at is not None:
        return
    if S.WITHDRAWN in TRANSITIONS[lead.status]:
        told = [a.clinic_id for a in lead.assignments if a.revoked_at is None]
        move(
            session,
            lead,
            S.WITHDRAWN,
            actor,
            action="lead.consent_withdrawn",
            changes={"clinics_told": told},
            now=now,
        )
        return
    lead.consent_withdrawn_at = now
    audit.record(
        session, actor, "lead.consent_withdrawn", lead=lead.id, changes={"clinics_told": []}
    )


def _settle(session: DbSession, lead: Lead, now: datetime) -> None:
    """The clinics lose the lead: no reminders, no re-routing, gone from their inboxes. A
    withdrawal is the patient's: each clinic that had the details is told (PIPA). Nothing
    about it waits on staff any more, so it leaves the console's flagged lists."""
    lead.no_matching_clinic = lead.clinic_silent = lead.processing_failed = False
    if lead.status is S.WITHDRAWN:  # first: the clinics' recount leaves a withdrawn lead out
        lead.consent_withdrawn_at = lead.consent_withdrawn_at or now
    reason = RevokedReason.WITHDRAWN if lead.status is S.WITHDRAWN else RevokedReason.SETTLED
    revoked = routing.revoke(session, lead.assignments, now, reason)
    if lead.status is S.WITHDRAWN:
        for assignment in revoked:
            emails.tell_clinic_consent_withdrawn(session, assignment)


def _reopen(session: DbSession, lead: Lead, now: datetime) -> None:
    """Staff found a real, distinct inquiry: it is processed again from the start, and the
    duplicate check, which staff just overruled, is not run on it again. Staff's reply clock
    starts again too (unless staff already wrote): it arrives in their queue only now."""
    if lead.duplicate_of_id is not None:
        lead.dedup_overruled = True
    lead.duplicate_of = None
    lead.spam_reason = None
    lead.processed_at = None
    lead.processing_attempts = 0
    lead.processing_failed = False
    lead.no_matching_clinic = False
    if lead.staff_due_at is not None and lead.staff_responded_at is None:
        lead.staff_due_at = staff_due_at(now, current_app.config)
    enqueue_task(session, task_names.PROCESS_LEAD, lead.id)
