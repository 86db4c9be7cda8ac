"""Clinic answer deadlines: one reminder, then the lead goes to the next best clinic.

Run by beat every few minutes. Each step claims its row with a conditional UPDATE (the
row must still be unanswered, unreminded or unexpired), so however many beat ticks or
workers run at once, one of them wins and the others change nothing. Locks are taken lead
first, then assignment, the same order as consent withdrawal and clinic answers.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update

from app.models import Assignment, Lead
from app.models.base import DbSession, rows_changed
from app.services import audit
from app.services.answers.business_hours import DeadlinePolicy
from app.services.leads import emails, lifecycle, sharing
from app.services.leads.processing import offer_to_next_clinic
from app.services.mail.delivery import when_sent

log = logging.getLogger(__name__)

BATCH = 500


@when_sent("clinic_new_lead")
def start_answer_clocks(
    session: DbSession, sent_at: datetime, notices: list[dict[str, Any]]
) -> None:
    """Each clinic's deadline runs from the moment the mail server accepted its notice; a
    resent copy does not move it."""
    session.execute(
        _START_CLOCKS,
        {"assignment_ids": [notice["assignment_id"] for notice in notices], "accepted_at": sent_at},
    )


# Built once: it runs for every routed lead.
_START_CLOCKS = (
    update(Assignment)
    .where(
        Assignment.id.in_(bindparam("assignment_ids", expanding=True)),
        Assignment.sent_at.is_(None),
    )
    .values(sent_at=bindparam("accepted_at"))
    .execution_options(synchronize_session=False)
)


def _awaiting_answer() -> tuple[Any, ...]:
    return (
        Assignment.sent_at.is_not(None),
        Assignment.responded_at.is_(None),
        Assignment.revoked_at.is_(None),
        Assignment.expired_at.is_(None),
    )


def _due(session: DbSession, sent_by: datetime, *extra: Any) -> list[tuple[int, int]]:
    """Only leads still waiting on clinics are chased: a booked or settled one is not."""
    return [
        (row.id, row.lead_id)
        for row in session.execute(
            select(Assignment.id, Assignment.lead_id)
            .join(Lead, Lead.id == Assignment.lead_id)
            .where(
                *_awaiting_answer(),
                Assignment.sent_at <= sent_by,
                Lead.status.in_(lifecycle.AWAITING_CLINICS),
                *extra,
            )
            .order_by(Assignment.id)
            .limit(BATCH)
        )
    ]


def _claim(session: DbSession, assignment_id: int, *extra: Any, **values: Any) -> bool:
    result = session.execute(
        update(Assignment)
        .where(Assignment.id == assignment_id, *_awaiting_answer(), *extra)
        .values(**values)
    )
    return rows_changed(result) == 1


def _locked_if_awaiting(session: DbSession, lead_id: int) -> Lead | None:
    """The lead, locked, if it still waits on clinics now that no one else can move it."""
    lead = session.get(Lead, lead_id, with_for_update=True, populate_existing=True)
    return lead if lead is not None and lead.status in lifecycle.AWAITING_CLINICS else None


def expire_silent(session: DbSession, policy: DeadlinePolicy, now: datetime) -> int:
    """Assignments past their deadline are marked expired and the lead offered onwards."""
    expired = 0
    sent_by = policy.calendar.subtract_hours(now, policy.reroute_after_hours)
    for assignment_id, lead_id in _due(session, sent_by):
        lead = _locked_if_awaiting(session, lead_id)
        if lead is None or not _claim(session, assignment_id, expired_at=now):
            session.rollback()
            continue
        assignment = session.get(Assignment, assignment_id, populate_existing=True)
        assert assignment is not None
        lead.clinic_silent = True
        offered = offer_to_next_clinic(session, lead, policy.max_clinics, now)
        audit.record(
            session,
            audit.Actor.system("deadlines"),
            "assignment.expired",
            lead=lead.id,
            changes={"clinic_id": assignment.clinic_id, "offered_to": offered},
        )
        session.commit()
        expired += 1
    return expired


def send_reminders(session: DbSession, policy: DeadlinePolicy, now: datetime) -> int:
    reminded = 0
    sent_by = policy.calendar.subtract_hours(now, policy.remind_after_hours)
    for assignment_id, lead_id in _due(session, sent_by, Assignment.reminded_at.is_(None)):
        lead = _locked_if_awaiting(session, lead_id)
        if lead is None or not _claim(
            session, assignment_id, Assignment.reminded_at.is_(None), reminded_at=now
        ):
            session.rollback()
            continue
        assignment = session.get(Assignment, assignment_id, populate_existing=True)
        assert assignment is not None and assignment.sent_at is not None
        emails.remind_clinic(session, assignment, policy.due_at(assignment.sent_at))
        audit.record(
            session,
            audit.Actor.system("deadlines"),
            "assignment.reminded",
            lead=lead.id,
            changes={"clinic_id": assignment.clinic_id},
        )
        session.commit()
        reminded += 1
    return reminded


def check_deadlines(session: DbSession, policy: DeadlinePolicy, now: datetime) -> tuple[int, int]:
    """Expire first: a lead past both limits (beat was down) moves on without a reminder.
    A further clinic the patient did not agree to in time is let go here too."""
    unanswered = sharing.expire_unanswered(session, timedelta(hours=policy.consent_wait_hours), now)
    if unanswered:
        log.info("sharing: %d further clinics let go without the patient's agreement", unanswered)
    expired = expire_silent(session, policy, now)
    reminded = send_reminders(session, policy, now)
    if expired or reminded:
        log.info("deadlines: %d reminders, %d leads moved on", reminded, expired)
    return reminded, expired
