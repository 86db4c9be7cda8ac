"""Files after the inquiry: the documents a patient adds on their page (the MRI they forgot),
and the chosen clinic's visa letter.

Each file is checked and stored like the inquiry's attachment, encrypted under a random
name. A patient's document is seen by the clinics holding the lead with the patient's
agreement, and by no other; the visa letter is downloaded from the patient's page only,
never attached to an email.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from flask_babel import lazy_gettext as _l

from app.models import Assignment, AttachmentKind, ClinicUser, Lead, LeadAttachment
from app.models.base import DbSession, utcnow
from app.services import audit
from app.services.answers.answering import open_assignment
from app.services.leads import emails, lifecycle
from app.services.leads.intake import Upload
from app.services.privacy import attachments

# Enough for scans and reports; a patient with more is better helped by the clinic.
MOST_DOCUMENTS = 10


class DocumentRefused(ValueError):
    """The file cannot be added now; the message says why."""


def documents_of(lead: Lead) -> list[LeadAttachment]:
    return [a for a in lead.attachments if a.kind is AttachmentKind.MEDICAL]


def visa_letter_of(lead: Lead) -> LeadAttachment | None:
    return next((a for a in lead.attachments if a.kind is AttachmentKind.VISA_LETTER), None)


def booked_assignment(lead: Lead) -> Assignment | None:
    """The clinic that confirmed the treatment, while it still holds the lead."""
    return next((a for a in lead.assignments if a.confirmed_at and a.is_open), None)


def add_documents(
    session: DbSession, lead_id: int, uploads: Sequence[Upload], upload_dir: str
) -> list[LeadAttachment]:
    lead = session.get(Lead, lead_id, with_for_update=True)
    if lead is None:
        raise LookupError("no such lead")
    if lead.status not in lifecycle.ACTIVE or lead.consent_withdrawn_at is not None:
        session.rollback()
        raise DocumentRefused(_l("this inquiry is closed"))
    if len(documents_of(lead)) + len(uploads) > MOST_DOCUMENTS:
        session.rollback()
        raise DocumentRefused(_l("an inquiry holds up to %(most)d documents", most=MOST_DOCUMENTS))
    added = [_store(session, lead, upload, upload_dir, None) for upload in uploads]
    session.flush()
    emails.tell_clinics_new_document(session, lead, added[0].id)
    audit.record(
        session,
        audit.Actor.public("patient"),
        "lead.documents_added",
        lead=lead.id,
        changes={"attachment_ids": [a.id for a in added]},
    )
    session.commit()
    return added


def request_visa_letter(session: DbSession, lead_id: int, now: datetime | None = None) -> None:
    """Once, from the clinic that confirmed the treatment."""
    lead = session.get(Lead, lead_id, with_for_update=True)
    if lead is None:
        raise LookupError("no such lead")
    assignment = booked_assignment(lead)
    if assignment is None or not lead.needs_visa_letter:
        session.rollback()
        raise DocumentRefused(
            _l("a visa letter can be asked for once a clinic has confirmed your treatment")
        )
    if lead.visa_letter_requested_at is not None:
        session.rollback()
        return
    lead.visa_letter_requested_at = now or utcnow()
    emails.ask_clinic_for_visa_letter(session, assignment)
    audit.record(
        session,
        audit.Actor.public("patient"),
        "lead.visa_letter_requested",
        lead=lead.id,
        changes={"clinic_id": assignment.clinic_id},
    )
    session.commit()


def upload_visa_letter(
    session: DbSession, lead_id: int, user_id: int, upload: Upload, upload_dir: str
) -> LeadAttachment:
    """The confirmed clinic answers the request; a second upload replaces the first."""
    user = session.get(ClinicUser, user_id)
    assignment = open_assignment(session, lead_id, user.clinic_id) if user else None
    if user is None or assignment is None:
        raise LookupError("no such lead for this clinic")
    lead = assignment.lead
    if assignment.confirmed_at is None or lead.visa_letter_requested_at is None:
        raise DocumentRefused(_l("the patient has not asked this clinic for a visa letter"))
    replaced = visa_letter_of(lead)
    if replaced is not None:
        session.delete(replaced)
    letter = _store(session, lead, upload, upload_dir, assignment.clinic_id)
    session.flush()
    emails.tell_patient_visa_letter_ready(session, assignment, letter.id)
    audit.record(
        session,
        audit.Actor.clinic_user(user),
        "lead.visa_letter_uploaded",
        lead=lead.id,
        changes={"attachment_id": letter.id},
    )
    session.commit()
    if replaced is not None:
        attachments.remove(upload_dir, replaced.stored_name)
    return letter


def _store(
    session: DbSession, lead: Lead, upload: Upload, upload_dir: str, clinic_id: int | None
) -> LeadAttachment:
    stored_name, size = attachments.store(upload.stream, upload_dir)
    attachment = LeadAttachment(
        lead=lead,
        stored_name=stored_name,
        content_type=upload.content_type,
        size_bytes=size,
        kind=AttachmentKind.VISA_LETTER if clinic_id else AttachmentKind.MEDICAL,
        clinic_id=clinic_id,
    )
    session.add(attachment)
    return attachment
