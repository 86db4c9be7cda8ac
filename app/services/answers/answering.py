"""What a clinic does with a lead in the portal: open it, answer it.

A clinic only ever reaches a lead through its own open assignment (not revoked, not
expired, not declined); anything else is "no such lead", so the portal answers 404 and
tells nothing.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, case, or_, select
from sqlalchemy.orm import joinedload

from app.models import (
    Assignment,
    ClinicResponse,
    ClinicUser,
    Lead,
    LeadAttachment,
    LeadStatus,
    Quote,
)
from app.models.base import DbSession, utcnow
from app.services import audit
from app.services.answers.business_hours import DeadlinePolicy
from app.services.integrations import webhooks
from app.services.leads import emails, lifecycle
from app.services.leads.processing import offer_to_next_clinic


class AnswerRefused(ValueError):
    """The answer lacks what it needs (a quote's details, a reason to decline)."""


class Cover(enum.StrEnum):
    """How a quote covers one standard part (`reference_data.QUOTE_PARTS`). A part the
    quote leaves out is not offered; a part priced separately is not in the quote's price."""

    INCLUDED = "included"
    SEPARATE = "separate"


@dataclass(frozen=True)
class QuoteItem:
    cover: Cover
    price: int | None = None  # only for a part priced separately


@dataclass(frozen=True)
class QuoteDetails:
    price_min: int
    price_max: int
    currency: str
    includes: str
    stay_nights: int
    valid_until: date
    note: str = ""
    # Part code -> how the quote covers it, stored as the quote's `items`; empty for a quote
    # that is not itemised.
    items: dict[str, QuoteItem] = field(default_factory=dict)


def open_assignment(session: DbSession, lead_id: int, clinic_id: int) -> Assignment | None:
    """The clinic's live hold on the lead, or None (never routed, revoked, expired, or
    declined: a clinic that said no needs the patient's details no more; or offered but not
    yet agreed to by the patient, who has not let it see their details)."""
    return session.scalar(
        select(Assignment)
        .where(
            Assignment.lead_id == lead_id,
            Assignment.clinic_id == clinic_id,
            Assignment.revoked_at.is_(None),
            Assignment.expired_at.is_(None),
            or_(Assignment.response.is_(None), Assignment.response != ClinicResponse.DECLINED),
            or_(Assignment.consent_requested_at.is_(None), Assignment.shared_at.is_not(None)),
        )
        .options(joinedload(Assignment.lead), joinedload(Assignment.quote))
    )


def inbox(session: DbSession, clinic_id: int, page: int, per_page: int) -> list[Assignment]:
    """The clinic's leads: those awaiting its answer first, then the rest, newest first.

    Revoked leads (withdrawn or settled) are gone; expired and declined ones stay as a line
    without details, so the clinic sees what it missed or turned down.
    """
    awaiting = and_(
        Assignment.responded_at.is_(None),
        Assignment.expired_at.is_(None),
    )
    return list(
        session.scalars(
            select(Assignment)
            .where(Assignment.clinic_id == clinic_id, Assignment.revoked_at.is_(None))
            .order_by(case((awaiting, 0), else_=1), Assignment.created_at.desc(), Assignment.id)
            .options(joinedload(Assignment.lead).joinedload(Lead.procedure))
            .limit(per_page + 1)
            .offset((page - 1) * per_page)
        )
    )


def _user(session: DbSession, user_id: int) -> ClinicUser:
    user = session.get(ClinicUser, user_id)
    if user is None:
        raise LookupError("no such clinic user")
    return user


def shares_details(assignment: Assignment) -> bool:
    """The clinic may read the patient's details: it holds the lead and the patient agreed
    (`open_assignment`'s rule, for a row already loaded)."""
    return assignment.holds_lead and not assignment.awaiting_consent


def _read(session: DbSession, assignment: Assignment, user: ClinicUser) -> None:
    if assignment.viewed_at is None:
        assignment.viewed_at = utcnow()
    audit.record(session, audit.Actor.clinic_user(user), "lead.viewed", lead=assignment.lead_id)


def record_view(session: DbSession, lead_id: int, user_id: int) -> Assignment:
    """Every read of a patient's details is audited; the first one sets `viewed_at`."""
    user = _user(session, user_id)
    assignment = open_assignment(session, lead_id, user.clinic_id)
    if assignment is None:
        raise LookupError("no such lead for this clinic")
    _read(session, assignment, user)
    session.commit()
    return assignment


@dataclass(frozen=True)
class InboxEntry:
    """One line of a clinic's inbox as a system receives it: the patient's details only
    where the clinic may read them, and then that read is audited."""

    assignment: Assignment
    patient: Lead | None
    answer_due_at: datetime | None


@dataclass(frozen=True)
class InboxPage:
    entries: list[InboxEntry]
    more: bool


def read_inbox(
    session: DbSession, user_id: int, page: int, per_page: int, policy: DeadlinePolicy
) -> InboxPage:
    """The inbox with the details each lead's portal page would show, each read audited as
    that page audits it: a system that fetched the details has received them, as a person
    who opened the page has."""
    user = _user(session, user_id)
    rows = inbox(session, user.clinic_id, page, per_page)
    shown = rows[:per_page]
    shared = {a.id for a in shown if shares_details(a)}
    for assignment in shown:
        if assignment.id in shared:
            _read(session, assignment, user)
    session.commit()
    entries = [
        InboxEntry(
            assignment,
            assignment.lead if assignment.id in shared else None,
            policy.due_at(assignment.sent_at)
            if assignment.awaiting_answer and assignment.sent_at and not assignment.awaiting_consent
            else None,
        )
        for assignment in shown
    ]
    return InboxPage(entries, more=len(rows) > per_page)


def record_download(
    session: DbSession, lead_id: int, attachment_id: int, user_id: int
) -> LeadAttachment:
    """Any file of a lead the clinic holds and the patient agreed to share with it."""
    user = _user(session, user_id)
    assignment = open_assignment(session, lead_id, user.clinic_id)
    attachment = session.get(LeadAttachment, attachment_id)
    if assignment is None or attachment is None or attachment.lead_id != lead_id:
        raise LookupError("no such attachment for this clinic")
    audit.record(
        session,
        audit.Actor.clinic_user(user),
        "lead.attachment_downloaded",
        lead=lead_id,
        changes={"attachment_id": attachment.id},
    )
    session.commit()
    return attachment


def answer(
    session: DbSession,
    lead_id: int,
    user_id: int,
    response: ClinicResponse,
    *,
    max_clinics: int,
    quote: QuoteDetails | None = None,
    reason: str | None = None,
    now: datetime | None = None,
) -> Assignment:
    """Record the clinic's answer; the first yes moves the lead on and tells the patient.

    A clinic may follow "contacted" with a quote, or revise its quote. Declining is final:
    the lead is offered to the next best clinic at once, so the patient does not wait.
    """
    now = now or utcnow()
    if response is ClinicResponse.QUOTED and quote is None:
        raise AnswerRefused("a quote needs its details")
    if response is ClinicResponse.DECLINED and not (reason and reason.strip()):
        raise AnswerRefused("declining needs a reason")
    user = _user(session, user_id)
    lead = session.get(Lead, lead_id, with_for_update=True)
    assignment = open_assignment(session, lead_id, user.clinic_id)
    if lead is None or assignment is None:
        session.rollback()
        raise LookupError("no such lead for this clinic")

    assignment.response = response
    assignment.responded_at = assignment.responded_at or now
    # The reason's and the note's text stay out of the audit trail: they may hold health
    # details, and are kept encrypted on the assignment and the quote.
    changes: dict[str, object] = {"clinic_id": assignment.clinic_id, "response": response.value}
    actor = audit.Actor.clinic_user(user)
    if response is ClinicResponse.DECLINED:
        assignment.decline_reason = (reason or "").strip()
        changes["offered_to"] = offer_to_next_clinic(session, lead, max_clinics, now)
    else:
        if quote is not None and response is ClinicResponse.QUOTED:
            _save_quote(session, assignment, quote)
            changes["quote"] = {
                **asdict(quote),
                "valid_until": quote.valid_until.isoformat(),
                "note": bool(quote.note),
            }
        _advance_lead(session, lead, assignment, response, actor)
    audit.record(session, actor, "lead.clinic_answered", lead=lead.id, changes=changes)
    webhooks.emit(
        session,
        "assignment.answered",
        lead,
        clinic_ids=[assignment.clinic_id],
        clinic_id=assignment.clinic_id,
        response=response.value,
    )
    session.commit()
    return assignment


def _save_quote(session: DbSession, assignment: Assignment, details: QuoteDetails) -> None:
    quote = assignment.quote or Quote(assignment=assignment)
    for name, value in asdict(details).items():
        setattr(quote, name, value)
    session.add(quote)


def _advance_lead(
    session: DbSession,
    lead: Lead,
    assignment: Assignment,
    response: ClinicResponse,
    actor: audit.Actor,
) -> None:
    """The lead moves forward with the first yes and the first quote; never back."""
    target = LeadStatus.QUOTED if response is ClinicResponse.QUOTED else LeadStatus.CONTACTED
    if target in lifecycle.TRANSITIONS[lead.status]:
        lifecycle.move(session, lead, target, actor)
    emails.tell_patient_clinic_answered(session, lead, assignment)
