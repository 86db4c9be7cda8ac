"""What a patient sees of their own inquiry, from the signed link in their emails: where it
went, which clinic answered and when, and the quotes side by side. No account: an address
that asks again gets fresh links by email, and the answer is the same for any address."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app.i18n import patient_locale
from app.models import Assignment, Lead, LeadAttachment, Quote, RevokedReason
from app.models.base import DbSession, utcnow
from app.services import audit
from app.services.conversations import threads
from app.services.leads import choice, documents, lifecycle
from app.services.mail.delivery import queue_email

# Enough for anyone's real inquiries; the email lists the newest.
MOST_LISTED = 20


@dataclass(frozen=True)
class ClinicAnswer:
    """One clinic on the patient's page, with what the patient may do about it."""

    assignment: Assignment
    quote: Quote | None
    quote_expired: bool
    can_write: bool
    can_choose: bool
    can_stop: bool


@dataclass(frozen=True)
class PatientPage:
    lead: Lead
    answers: list[ClinicAnswer]
    documents: list[LeadAttachment]
    booked: Assignment | None
    visa_letter: LeadAttachment | None

    @property
    def waiting_for_consent(self) -> list[ClinicAnswer]:
        return [a for a in self.answers if a.assignment.awaiting_consent and a.can_stop]

    @property
    def is_shared(self) -> bool:
        """Still being worked on with the patient's consent: documents may be added, and the
        patient may stop sharing it with every clinic."""
        return self.lead.status in lifecycle.ACTIVE and self.lead.consent_withdrawn_at is None

    @property
    def can_ask_for_visa_letter(self) -> bool:
        return (
            self.booked is not None
            and self.lead.needs_visa_letter
            and self.lead.visa_letter_requested_at is None
        )


def patient_page(session: DbSession, lead_id: int, today: date) -> PatientPage:
    """Every clinic the inquiry was shared with or offered to, in that order; a read of the
    patient's own data (their threads too) is audited like any other."""
    lead = session.scalar(
        select(Lead)
        .where(Lead.id == lead_id)
        .options(
            joinedload(Lead.procedure),
            selectinload(Lead.assignments).joinedload(Assignment.clinic),
            selectinload(Lead.assignments).joinedload(Assignment.quote),
            selectinload(Lead.assignments).selectinload(Assignment.messages),
            selectinload(Lead.attachments),
            selectinload(Lead.staff_messages),
        )
    )
    if lead is None:
        raise LookupError("no such lead")
    answers = [
        ClinicAnswer(
            assignment=a,
            quote=a.quote,
            quote_expired=a.quote is not None and a.quote.valid_until < today,
            can_write=threads.can_write(a),
            can_choose=choice.can_choose(a) and a.chosen_at is None,
            can_stop=a.holds_lead and a.confirmed_at is None and lead.consent_withdrawn_at is None,
        )
        for a in lead.assignments
        if a.expired_at is None and a.revoked_reason is not RevokedReason.CONSENT_EXPIRED
    ]
    audit.record(session, audit.Actor.public("patient"), "lead.viewed_by_patient", lead=lead.id)
    session.commit()
    return PatientPage(
        lead=lead,
        answers=answers,
        documents=documents.documents_of(lead),
        booked=documents.booked_assignment(lead),
        visa_letter=documents.visa_letter_of(lead),
    )


def send_status_links(session: DbSession, email: str) -> None:
    """One email listing the address's inquiries with fresh links; nothing when it has none,
    and at most one an hour, however often the form is sent."""
    address = email.strip().lower()
    leads = session.scalars(
        select(Lead)
        .where(Lead.email == address, Lead.anonymised_at.is_(None))
        .order_by(Lead.created_at.desc())
        .limit(MOST_LISTED)
    ).all()
    if not leads:
        return
    newest = leads[0]
    queue_email(
        session,
        key=f"status-links:{address}:{utcnow():%Y-%m-%dT%H}",
        recipient=address,
        template="patient_status_links",
        context={"lead_ids": [lead.id for lead in leads]},
        language=patient_locale(newest.language, newest.country),
        lead_id=newest.id,
    )
    audit.record(
        session, audit.Actor.public("patient"), "lead.status_links_requested", lead=newest.id
    )
    session.commit()
