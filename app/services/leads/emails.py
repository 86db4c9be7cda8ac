"""Queueing the emails about a lead, so each kind is keyed and linked to its lead one way.

Every email here carries `lead_id`, which puts it on the lead's timeline and under the
console's "email failed" filter.
"""

from __future__ import annotations

from datetime import datetime

from app.i18n import patient_locale
from app.models import Assignment, Lead
from app.models.base import DbSession
from app.services.mail.delivery import queue_email


def notify_clinic(session: DbSession, assignment: Assignment) -> None:
    """The clinic hears of a new lead: a portal link, no health details."""
    queue_email(
        session,
        key=f"clinic-new-lead:{assignment.id}",
        recipient=assignment.clinic.email,
        template="clinic_new_lead",
        context={"assignment_id": assignment.id},
        language=assignment.clinic.language,
        lead_id=assignment.lead_id,
    )


def remind_clinic(session: DbSession, assignment: Assignment, due_at: datetime) -> None:
    """Once per assignment, however often the deadline check runs."""
    queue_email(
        session,
        key=f"clinic-reminder:{assignment.id}",
        recipient=assignment.clinic.email,
        template="clinic_reminder",
        context={"assignment_id": assignment.id, "due_at": due_at.isoformat()},
        language=assignment.clinic.language,
        lead_id=assignment.lead_id,
    )


def tell_patient_clinic_answered(session: DbSession, lead: Lead, assignment: Assignment) -> None:
    """Once per lead: the first clinic to answer is the one the patient hears about."""
    queue_email(
        session,
        key=f"patient-clinic-answered:{lead.id}",
        recipient=lead.email,
        template="patient_clinic_answered",
        context={"lead_id": lead.id, "assignment_id": assignment.id},
        language=patient_locale(lead.language, lead.country),
        lead_id=lead.id,
    )


def tell_clinic_consent_withdrawn(session: DbSession, assignment: Assignment) -> None:
    queue_email(
        session,
        key=f"consent-withdrawn:{assignment.id}",
        recipient=assignment.clinic.email,
        template="clinic_consent_withdrawn",
        context={"assignment_id": assignment.id},
        language=assignment.clinic.language,
        lead_id=assignment.lead_id,
    )


def confirm_to_patient(session: DbSession, lead: Lead, resend_stamp: str | None = None) -> None:
    """The patient's confirmation, once per lead; a resend by staff gets its own key."""
    key = f"lead-confirmation:{lead.id}"
    if resend_stamp:
        key += f":resend:{resend_stamp}"
    queue_email(
        session,
        key=key,
        recipient=lead.email,
        template="patient_confirmation",
        context={"lead_id": lead.id},
        language=patient_locale(lead.language, lead.country),
        lead_id=lead.id,
    )
