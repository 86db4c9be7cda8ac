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


def _to_clinic(
    session: DbSession, assignment: Assignment, template: str, key: str, **context: str
) -> None:
    """To the clinic holding the lead, in the clinic's language."""
    queue_email(
        session,
        key=f"{key}:{assignment.id}",
        recipient=assignment.clinic.email,
        template=template,
        context={"assignment_id": assignment.id, **context},
        language=assignment.clinic.language,
        lead_id=assignment.lead_id,
    )


def _to_patient(session: DbSession, lead: Lead, template: str, key: str, **context: int) -> None:
    """To the patient, in the language they chose on the form."""
    queue_email(
        session,
        key=key,
        recipient=lead.email,
        template=template,
        context={"lead_id": lead.id, **context},
        language=patient_locale(lead.language, lead.country),
        lead_id=lead.id,
    )


def notify_clinic(session: DbSession, assignment: Assignment) -> None:
    """The clinic hears of a new lead: a portal link, no health details."""
    _to_clinic(session, assignment, "clinic_new_lead", "clinic-new-lead")


def remind_clinic(session: DbSession, assignment: Assignment, due_at: datetime) -> None:
    """Once per assignment, however often the deadline check runs."""
    _to_clinic(session, assignment, "clinic_reminder", "clinic-reminder", due_at=due_at.isoformat())


def tell_patient_clinic_answered(session: DbSession, lead: Lead, assignment: Assignment) -> None:
    """Once per lead: the first clinic to answer is the one the patient hears about."""
    _to_patient(
        session,
        lead,
        "patient_clinic_answered",
        f"patient-clinic-answered:{lead.id}",
        assignment_id=assignment.id,
    )


def tell_clinic_consent_withdrawn(session: DbSession, assignment: Assignment) -> None:
    _to_clinic(session, assignment, "clinic_consent_withdrawn", "consent-withdrawn")


def confirm_to_patient(session: DbSession, lead: Lead, sent_for: datetime) -> None:
    """Once per routing of the lead (`sent_for`: its processing time) and per resend by staff:
    a lead staff put back to new is routed again, and its patient hears where it went."""
    _to_patient(
        session, lead, "patient_confirmation", f"lead-confirmation:{lead.id}:{sent_for.isoformat()}"
    )
