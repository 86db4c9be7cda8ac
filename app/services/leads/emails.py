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


def ask_patient_to_share(session: DbSession, assignment: Assignment) -> None:
    """A clinic after the first ones: named to the patient, who agrees or refuses on their
    page; the clinic hears of the lead only once they agree."""
    _to_patient(
        session,
        assignment.lead,
        "patient_consent_request",
        f"consent-request:{assignment.id}",
        assignment_id=assignment.id,
    )


def tell_clinic_new_message(session: DbSession, assignment: Assignment, message_id: int) -> None:
    """A link to the thread in the portal; the message itself stays behind the sign-in."""
    _to_clinic(session, assignment, "clinic_new_message", f"message-notice:{message_id}")


def tell_patient_new_message(session: DbSession, assignment: Assignment, message_id: int) -> None:
    """A link to the patient's page; the message itself stays there."""
    _to_patient(
        session,
        assignment.lead,
        "patient_new_message",
        f"message-notice:{message_id}",
        assignment_id=assignment.id,
    )


def tell_patient_staff_message(session: DbSession, lead: Lead, message_id: int) -> None:
    """Staff wrote to the patient: a link to the patient's page, where the message is."""
    _to_patient(session, lead, "patient_staff_message", f"staff-message:{message_id}")


def tell_clinic_chosen(session: DbSession, assignment: Assignment, at: datetime) -> None:
    """Keyed by the moment: a patient who chooses, changes and comes back tells it again."""
    _to_clinic(session, assignment, "clinic_chosen", f"clinic-chosen:{at.isoformat()}")


def tell_clinic_choice_changed(session: DbSession, assignment: Assignment, at: datetime) -> None:
    _to_clinic(session, assignment, "clinic_choice_changed", f"choice-changed:{at.isoformat()}")


def tell_staff_clinic_chosen(
    session: DbSession, assignment: Assignment, staff_email: str, at: datetime
) -> None:
    queue_email(
        session,
        key=f"staff-clinic-chosen:{assignment.id}:{at.isoformat()}",
        recipient=staff_email,
        template="staff_clinic_chosen",
        context={"assignment_id": assignment.id},
        lead_id=assignment.lead_id,
    )


def tell_clinic_chose_elsewhere(session: DbSession, assignment: Assignment) -> None:
    _to_clinic(session, assignment, "clinic_chose_elsewhere", "chose-elsewhere")


def tell_patient_booked(session: DbSession, assignment: Assignment) -> None:
    _to_patient(
        session,
        assignment.lead,
        "patient_booked",
        f"booked:{assignment.id}",
        assignment_id=assignment.id,
    )


def tell_clinics_new_document(session: DbSession, lead: Lead, attachment_id: int) -> None:
    """Each clinic holding the lead with the patient's agreement: a link, never the file."""
    for assignment in lead.assignments:
        if assignment.holds_lead and not assignment.awaiting_consent:
            _to_clinic(session, assignment, "clinic_new_document", f"document:{attachment_id}")


def ask_clinic_for_visa_letter(session: DbSession, assignment: Assignment) -> None:
    _to_clinic(session, assignment, "clinic_visa_letter_requested", "visa-letter-requested")


def tell_patient_visa_letter_ready(
    session: DbSession, assignment: Assignment, attachment_id: int
) -> None:
    _to_patient(
        session,
        assignment.lead,
        "patient_visa_letter_ready",
        f"visa-letter-ready:{attachment_id}",
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
