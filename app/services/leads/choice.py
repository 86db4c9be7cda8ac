"""The patient going ahead with one clinic, and that clinic booking the treatment.

The choice is the patient's until the clinic confirms a date: choosing another clinic moves
it, and the clinics not chosen keep the lead until then, so a patient who changes their
mind has not lost their answers. The clinic's confirmation books the lead and closes the
others' places, each told once.
"""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l

from app.models import Assignment, ClinicUser, Lead, LeadStatus, RevokedReason
from app.models.base import DbSession, utcnow
from app.services import audit
from app.services.answers.answering import open_assignment
from app.services.leads import emails, lifecycle, routing


class ChoiceRefused(ValueError):
    """The choice or the booking does not fit the lead's state; the message says why."""


def can_choose(assignment: Assignment) -> bool:
    lead = assignment.lead
    return (
        assignment.holds_lead
        and not assignment.awaiting_consent
        and assignment.responded_at is not None
        and lead.status in lifecycle.AWAITING_CLINICS
        and lead.consent_withdrawn_at is None
    )


def choose(
    session: DbSession,
    lead_id: int,
    assignment_id: int,
    staff_email: str,
    now: datetime | None = None,
) -> Assignment:
    """The chosen clinic and staff are told; a clinic chosen before is told of the change."""
    now = now or utcnow()
    lead = session.get(Lead, lead_id, with_for_update=True)
    assignment = session.get(Assignment, assignment_id)
    if lead is None or assignment is None or assignment.lead_id != lead.id:
        session.rollback()
        raise LookupError("no such clinic for this inquiry")
    if not can_choose(assignment):
        session.rollback()
        raise ChoiceRefused(_l("this clinic cannot be chosen now"))
    before = next((a for a in lead.assignments if a.chosen_at is not None), None)
    if before is assignment:
        session.rollback()
        return assignment
    if before is not None:
        before.chosen_at = None
        emails.tell_clinic_choice_changed(session, before, now)
    assignment.chosen_at = now
    emails.tell_clinic_chosen(session, assignment, now)
    emails.tell_staff_clinic_chosen(session, assignment, staff_email, now)
    audit.record(
        session,
        audit.Actor.public("patient"),
        "lead.clinic_chosen",
        lead=lead.id,
        changes={"clinic_id": assignment.clinic_id, "before": before and before.clinic_id},
    )
    session.commit()
    return assignment


def confirm_booking(
    session: DbSession,
    lead_id: int,
    user_id: int,
    treatment_date: date,
    now: datetime | None = None,
) -> Assignment:
    """Only the chosen clinic books; the lead becomes booked with the date."""
    now = now or utcnow()
    user = session.get(ClinicUser, user_id)
    lead = session.get(Lead, lead_id, with_for_update=True)
    assignment = open_assignment(session, lead_id, user.clinic_id) if user and lead else None
    if user is None or lead is None or assignment is None:
        session.rollback()
        raise LookupError("no such lead for this clinic")
    if assignment.confirmed_at is not None:
        session.rollback()
        raise ChoiceRefused(_l("the treatment is already booked"))
    if assignment.chosen_at is None:
        session.rollback()
        raise ChoiceRefused(_l("the patient has not chosen this clinic"))
    if treatment_date < now.date():
        session.rollback()
        raise ChoiceRefused(_l("the treatment date has passed"))
    assignment.confirmed_at = now
    lead.treatment_date = treatment_date
    lifecycle.move(
        session,
        lead,
        LeadStatus.BOOKED,
        audit.Actor.clinic_user(user),
        action="lead.booked",
        changes={"clinic_id": assignment.clinic_id, "treatment_date": treatment_date.isoformat()},
        now=now,
    )
    others = [a for a in lead.assignments if a is not assignment]
    had_details = [a for a in others if a.holds_lead and not a.awaiting_consent]
    routing.revoke(session, others, now, RevokedReason.CHOSE_OTHER)
    for other in had_details:
        emails.tell_clinic_chose_elsewhere(session, other)
    emails.tell_patient_booked(session, assignment)
    session.commit()
    return assignment
