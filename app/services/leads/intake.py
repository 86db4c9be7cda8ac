"""Turning a patient's inquiry into a lead, in one transaction with the work it triggers."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import IO, Any

from flask import current_app
from sqlalchemy import Select, String, bindparam, cast, func, insert, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.schema import ScalarElementColumnDefault

from app import task_names
from app.encryption import data_keys
from app.models import Clinic, ClinicStatus, Lead, LeadAttachment, LeadStatus, Procedure
from app.models.base import DbSession, table_of, utcnow
from app.services import audit
from app.services.integrations import webhooks
from app.services.leads.response_clock import staff_due_at
from app.services.outbox import enqueue_task, task_from
from app.services.privacy import attachments

# The consent wording shown on the form; bump the version whenever the text changes.
CONSENT_VERSION = "2026-11-share-with-matched-clinics-v1"

_REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # no 0/O, 1/I/L, U: easy to read aloud


def new_reference() -> str:
    body = "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))
    return f"CR-{body[:4]}-{body[4:]}"


@dataclass(frozen=True)
class Inquiry:
    full_name: str
    email: str
    phone: str
    country: str
    language: str
    procedure_slug: str
    clinic_slug: str | None
    message: str
    budget_usd: int | None
    travel_from: date | None
    travel_to: date | None
    needs_interpreter: bool
    needs_visa_letter: bool
    needs_accommodation: bool
    has_mri: bool
    source: str = "web"
    submission_id: str | None = None
    spam_reason: str | None = None
    partner_id: int | None = None
    api_key_id: int | None = None


@dataclass(frozen=True)
class Upload:
    stream: IO[bytes]
    content_type: str


@dataclass(frozen=True)
class Submitted:
    lead_id: int
    reference: str


def submit_inquiry(
    session: DbSession, inquiry: Inquiry, upload: Upload | None, upload_dir: str
) -> Submitted:
    """Store the lead with its processing task and its audit event, and commit.

    This runs inside the patient's request, so it is one statement and a commit (`_store`):
    the procedure and the chosen clinic are looked up inside the lead's INSERT, and
    everything else (routing, emails, publishing the task) happens after the response. The
    same form submitted twice answers with the lead the first one made: the unique
    submission id refuses the second row, so the common case pays for no lookup first. A submission
    judged to be spam is stored as such and never routed, so the sender learns nothing.
    """
    spam = inquiry.spam_reason is not None
    reference = new_reference()
    stored_name = None
    if upload is not None and not spam:
        stored_name, size = attachments.store(upload.stream, upload_dir)
        attachment = {"stored_name": stored_name, "content_type": upload.content_type}
    try:
        lead_id = _store(session, inquiry, reference)
        if stored_name:
            session.execute(
                insert(table_of(LeadAttachment)),
                {**attachment, "lead_id": lead_id, "size_bytes": size, "created_at": utcnow()},
            )
        if not spam:
            webhooks.emit(
                session, "lead.created", webhooks.LeadRef(lead_id, reference, inquiry.partner_id)
            )
        session.commit()
    except IntegrityError:
        session.rollback()
        if stored_name:
            attachments.remove(upload_dir, stored_name)
        if inquiry.submission_id:
            # The same form's other submission committed first: that lead is the answer.
            earlier = session.execute(
                select(Lead.id, Lead.reference).where(Lead.submission_id == inquiry.submission_id)
            ).first()
            if earlier is not None:
                return Submitted(*earlier)
        raise
    except BaseException:
        session.rollback()
        if stored_name:
            attachments.remove(upload_dir, stored_name)
        raise
    return Submitted(lead_id, reference)


_PATIENT = audit.Actor.public("patient")
_RECEIVED = {False: "lead.received", True: "lead.spam_received"}


def _store(session: DbSession, inquiry: Inquiry, reference: str) -> int:
    """The lead, its processing task (unless spam) and its audit event. On PostgreSQL they
    are one statement, the task and the event written from the lead's RETURNING, so the
    patient's request waits on one round trip instead of three; SQLite, which has no
    data-modifying CTEs, takes three."""
    spam = inquiry.spam_reason is not None
    row = _lead_row(inquiry, reference)
    if session.get_bind().dialect.name == "postgresql":
        return session.execute(_insert_with_work(spam, frozenset(row)), row).scalar_one()
    lead_id: int = session.execute(_INSERT_LEAD, row).scalar_one()
    if not spam:
        enqueue_task(session, task_names.PROCESS_LEAD, lead_id)
    audit.record(
        session,
        _PATIENT,
        _RECEIVED[spam],
        lead=lead_id,
        changes={"procedure": inquiry.procedure_slug, "consent_version": CONSENT_VERSION},
    )
    return lead_id


_leads = table_of(Lead)
# Built once: the procedure and the chosen clinic are found by slug inside the INSERT. An
# unknown procedure leaves `procedure_id` NULL, which the database refuses (the form offers
# only the catalogue's procedures); an unknown or unlisted clinic leaves no chosen clinic.
_INSERT_LEAD = (
    insert(_leads)
    .values(
        procedure_id=select(Procedure.id)
        .where(Procedure.slug == bindparam("procedure_slug"))
        .scalar_subquery(),
        chosen_clinic_id=select(Clinic.id)
        .where(Clinic.slug == bindparam("clinic_slug"), Clinic.status == ClinicStatus.APPROVED)
        .scalar_subquery(),
    )
    .returning(Lead.id)
)


@cache
def _insert_with_work(spam: bool, row_keys: frozenset[str]) -> Select[int]:
    """`_INSERT_LEAD` with the lead's task and audit event as one PostgreSQL statement. The
    row's columns are named here, as a CTE's columns are fixed when it is compiled."""
    columns = row_keys - {"procedure_slug", "clinic_slug"}
    values: dict[str, Any] = {
        name: bindparam(name, type_=_leads.c[name].type) for name in columns
    } | {  # a CTE's INSERT gets no Python-side defaults: the scalar ones are written out
        column.name: literal(column.default.arg, column.type)
        for column in _leads.columns
        if column.name not in columns and isinstance(column.default, ScalarElementColumnDefault)
    }
    lead = _INSERT_LEAD.values(values).cte("new_lead")
    at = bindparam("created_at", type_=_leads.c.created_at.type)
    changes = func.jsonb_build_object(
        "procedure",
        cast(bindparam("procedure_slug"), String),
        "consent_version",
        CONSENT_VERSION,
    )
    work = [audit.recorded_from(_PATIENT, _RECEIVED[spam], at, changes, lead=lead.c.id)]
    if not spam:
        work.append(task_from(task_names.PROCESS_LEAD, lead.c.id, at))
    return select(lead.c.id).add_cte(
        lead, *(statement.cte(f"new_{n}") for n, statement in enumerate(work))
    )


def _lead_row(inquiry: Inquiry, reference: str) -> dict[str, Any]:
    now = utcnow()
    return {
        "reference": reference,
        "submission_id": inquiry.submission_id,
        "full_name": inquiry.full_name,
        "email": inquiry.email,
        "phone": inquiry.phone,
        "phone_digest": data_keys().digest(inquiry.phone) if inquiry.phone else None,
        "country": inquiry.country,
        "language": inquiry.language,
        "procedure_slug": inquiry.procedure_slug,
        "clinic_slug": inquiry.clinic_slug,
        "message": inquiry.message,
        "budget_usd": inquiry.budget_usd,
        "travel_from": inquiry.travel_from,
        "travel_to": inquiry.travel_to,
        "needs_interpreter": inquiry.needs_interpreter,
        "needs_visa_letter": inquiry.needs_visa_letter,
        "needs_accommodation": inquiry.needs_accommodation,
        "has_mri": inquiry.has_mri,
        "consent_version": CONSENT_VERSION,
        "consented_at": now,
        "source": inquiry.source[:100],
        "partner_id": inquiry.partner_id,
        "api_key_id": inquiry.api_key_id,
        "status": LeadStatus.SPAM if inquiry.spam_reason is not None else LeadStatus.NEW,
        "spam_reason": inquiry.spam_reason,
        "staff_due_at": staff_due_at(now, current_app.config),
        "created_at": now,
        "updated_at": now,
    }
