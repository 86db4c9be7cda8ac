"""A patient's rights over their data: a copy of it (GDPR Art. 15) or its erasure (Art. 17).

The patient asks through the signed link in their confirmation email; staff act on the
request in the console. Both cover every lead of the patient's address, not only the one
whose email carried the link. A copy reaches the patient as an emailed, expiring link
(`data_copy_links`) to a download made from the database when opened: no health data in the
email, none written to disk, each download audited.
"""

from __future__ import annotations

import base64
from datetime import date
from typing import Any

from sqlalchemy import select, update

from app.i18n import patient_locale
from app.models import (
    AuditEvent,
    Lead,
    OutboundEmail,
    PrivacyRequest,
    PrivacyRequestKind,
    StaffUser,
)
from app.models.base import DbSession, utcnow
from app.services import audit
from app.services.mail.delivery import queue_email
from app.services.privacy import attachments
from app.services.privacy.retention import WHAT_ANONYMISING_TOUCHES, anonymise, remove_files


class RequestClosed(ValueError):
    """The request was already handled."""


def waiting_requests(session: DbSession) -> list[PrivacyRequest]:
    """Requests nobody has handled yet, oldest first: the legal clock runs from asking."""
    return list(
        session.scalars(
            select(PrivacyRequest)
            .where(PrivacyRequest.handled_at.is_(None))
            .order_by(PrivacyRequest.created_at)
        )
    )


def recently_handled(session: DbSession, limit: int = 50) -> list[PrivacyRequest]:
    """The last requests handled, newest first, so staff can see what was done lately."""
    return list(
        session.scalars(
            select(PrivacyRequest)
            .where(PrivacyRequest.handled_at.is_not(None))
            .order_by(PrivacyRequest.handled_at.desc())
            .limit(limit)
        )
    )


def open_request(
    session: DbSession, lead_id: int, kind: PrivacyRequestKind, staff_email: str
) -> PrivacyRequest:
    """Record the patient's request once (asking twice finds the open one) and tell staff."""
    lead = session.get(Lead, lead_id)
    if lead is None or lead.anonymised_at is not None:
        raise LookupError("no such lead")
    existing = session.scalar(
        select(PrivacyRequest).where(
            PrivacyRequest.email == lead.email,
            PrivacyRequest.kind == kind,
            PrivacyRequest.handled_at.is_(None),
        )
    )
    if existing is not None:
        return existing
    request = PrivacyRequest(kind=kind, email=lead.email, lead_id=lead.id)
    session.add(request)
    session.flush()
    queue_email(
        session,
        key=f"staff-privacy-request:{request.id}",
        recipient=staff_email,
        template="staff_privacy_request",
        context={"request_id": request.id},
    )
    audit.record(
        session,
        audit.Actor.public("patient"),
        f"privacy.{kind.value}_requested",
        lead=lead.id,
        changes={"request_id": request.id},
    )
    session.commit()
    return request


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _lead_record(session: DbSession, lead: Lead, upload_dir: str) -> dict[str, Any]:
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.object_type == "lead", AuditEvent.object_id == lead.id)
        .order_by(AuditEvent.id)
    )
    emails = session.scalars(
        select(OutboundEmail).where(OutboundEmail.lead_id == lead.id).order_by(OutboundEmail.id)
    )
    return {
        "reference": lead.reference,
        "created_at": _iso(lead.created_at),
        "status": lead.status.value,
        "full_name": lead.full_name,
        "email": lead.email,
        "phone": lead.phone,
        "country": lead.country,
        "language": lead.language,
        "procedure": lead.procedure.name,
        "message": lead.message,
        "budget_usd": lead.budget_usd,
        "travel_from": _iso(lead.travel_from),
        "travel_to": _iso(lead.travel_to),
        "needs": {
            "interpreter": lead.needs_interpreter,
            "visa_letter": lead.needs_visa_letter,
            "accommodation": lead.needs_accommodation,
            "has_mri": lead.has_mri,
        },
        "consent": {
            "version": lead.consent_version,
            "given_at": _iso(lead.consented_at),
            "withdrawn_at": _iso(lead.consent_withdrawn_at),
        },
        "attachments": [
            {
                "kind": attachment.kind.value,
                "added_at": _iso(attachment.created_at),
                "content_type": attachment.content_type,
                "size_bytes": attachment.size_bytes,
                "content_base64": base64.b64encode(
                    attachments.read(upload_dir, attachment.stored_name)
                ).decode(),
            }
            for attachment in lead.attachments
        ],
        "shared_with": [
            {
                "clinic": a.clinic.name,
                "sent_at": _iso(a.sent_at),
                "opened_at": _iso(a.viewed_at),
                "answer": a.response.value if a.response else None,
                "answered_at": _iso(a.responded_at),
                "quote": None
                if a.quote is None
                else {
                    "price": [a.quote.price_min, a.quote.price_max, a.quote.currency],
                    "includes": a.quote.includes,
                    "items": a.quote.items,
                    "stay_nights": a.quote.stay_nights,
                    "valid_until": a.quote.valid_until.isoformat(),
                    "note": a.quote.note,
                },
                "access_ended_at": _iso(a.revoked_at or a.expired_at),
                "messages": [
                    {"from": m.sender.value, "at": _iso(m.created_at), "text": m.body}
                    for m in a.messages
                ],
            }
            for a in lead.assignments
        ],
        "messages_from_careroute": [
            {"at": _iso(m.created_at), "text": m.body} for m in lead.staff_messages
        ],
        "emails": [
            {"template": e.template, "status": e.status.value, "sent_at": _iso(e.sent_at)}
            for e in emails
        ],
        "history": [
            {"at": _iso(e.created_at), "action": e.action, "by": e.actor_type} for e in events
        ],
    }


def _document(session: DbSession, email: str, upload_dir: str) -> tuple[dict[str, Any], list[str]]:
    """Every record about the address, built from the database when asked for: the copy is
    never stored, so it is never on disk in clear and always current."""
    leads = session.scalars(select(Lead).where(Lead.email == email).order_by(Lead.id)).all()
    document = {
        "about": email,
        "generated_at": utcnow().isoformat(),
        "leads": [_lead_record(session, lead, upload_dir) for lead in leads],
        "requests": [
            {"kind": r.kind.value, "made_at": _iso(r.created_at), "handled_at": _iso(r.handled_at)}
            for r in session.scalars(select(PrivacyRequest).where(PrivacyRequest.email == email))
        ],
    }
    return document, [lead.reference for lead in leads]


def export_data(
    session: DbSession, request_id: int, staff_id: int, upload_dir: str
) -> dict[str, Any]:
    """Every record about the request's address, as one JSON-ready document, for staff.

    Looking is not answering: the request stays open until `send_copy` sends the patient
    their own link, so a download first never hides the request from the waiting list.
    """
    request = session.get(PrivacyRequest, request_id)
    staff = session.get(StaffUser, staff_id)
    if request is None or staff is None or not request.email:
        raise LookupError("no such open request")
    document, references = _document(session, request.email, upload_dir)
    audit.record(
        session,
        audit.Actor.staff(staff),
        "privacy.exported",
        privacy_request=request.id,
        changes={"leads": references},
    )
    session.commit()
    return document


def _queue_copy_link(session: DbSession, request: PrivacyRequest, key: str) -> None:
    """The email holds a link only: the data is fetched through it, never mailed."""
    queue_email(
        session,
        key=key,
        recipient=request.email,
        template="patient_data_copy",
        context={"request_id": request.id},
        language=patient_locale(request.lead.language, request.lead.country)
        if request.lead is not None
        else "en",
        lead_id=request.lead_id,
    )


def send_copy(session: DbSession, request_id: int, staff_id: int) -> None:
    """Answer a request for a copy: the patient is emailed a link to download it."""
    request = session.get(PrivacyRequest, request_id, with_for_update=True)
    staff = session.get(StaffUser, staff_id)
    if request is None or staff is None:
        raise LookupError("no such request")
    if (
        request.kind is not PrivacyRequestKind.EXPORT
        or request.handled_at is not None
        or not request.email
    ):
        raise RequestClosed("not an open request for a copy")
    request.handled_at = utcnow()
    request.handled_by_id = staff.id
    _queue_copy_link(session, request, key=f"data-copy:{request.id}")
    audit.record(session, audit.Actor.staff(staff), "privacy.copy_sent", privacy_request=request.id)
    session.commit()


def patient_copy(session: DbSession, request: PrivacyRequest, upload_dir: str) -> dict[str, Any]:
    """The patient's own download through their link; each one is audited, as staff's are."""
    document, references = _document(session, request.email, upload_dir)
    audit.record(
        session,
        audit.Actor.public("patient"),
        "privacy.copy_downloaded",
        privacy_request=request.id,
        changes={"leads": references},
    )
    session.commit()
    return document


def send_copy_again(session: DbSession, email: str) -> None:
    """A fresh link for an address whose copy was already sent, e.g. after the first expired.

    It goes only to that address, so asking reveals nothing to whoever asks; at most one an
    hour per request, however often the form is sent.
    """
    request = session.scalar(
        select(PrivacyRequest)
        .where(
            PrivacyRequest.email == email.strip().lower(),
            PrivacyRequest.email != "",
            PrivacyRequest.kind == PrivacyRequestKind.EXPORT,
            PrivacyRequest.handled_at.is_not(None),
        )
        .order_by(PrivacyRequest.handled_at.desc())
        .limit(1)
    )
    if request is None:
        return
    _queue_copy_link(session, request, key=f"data-copy:{request.id}:{utcnow():%Y-%m-%dT%H}")
    audit.record(
        session,
        audit.Actor.public("patient"),
        "privacy.copy_link_requested",
        privacy_request=request.id,
    )
    session.commit()


def erase(session: DbSession, request_id: int, staff_id: int, upload_dir: str) -> int:
    """Anonymise every lead of the address at once; clinics holding one lose it and are told.

    The address itself goes too: the request keeps only that it was done, and by whom.
    """
    request = session.get(PrivacyRequest, request_id, with_for_update=True)
    staff = session.get(StaffUser, staff_id)
    if request is None or staff is None:
        raise LookupError("no such request")
    if request.kind is not PrivacyRequestKind.ERASE or request.handled_at is not None:
        raise RequestClosed("not an open erasure request")
    email = request.email
    now = utcnow()
    leads = session.scalars(
        select(Lead)
        .where(Lead.email == email)
        .order_by(Lead.id)
        .options(*WHAT_ANONYMISING_TOUCHES)
        .with_for_update()
    ).all()
    references = [lead.reference for lead in leads]
    erased_by = audit.Actor.staff(staff)
    stored = [anonymise(session, lead, now, erased_by) for lead in leads]
    session.execute(
        update(PrivacyRequest)
        .where(PrivacyRequest.email == email)
        .values(email="", handled_at=now, handled_by_id=staff.id)
    )
    audit.record(
        session,
        audit.Actor.staff(staff),
        "privacy.erased",
        privacy_request=request.id,
        changes={"leads": references},
    )
    session.commit()
    remove_files(upload_dir, stored)
    return len(leads)
