"""Fictional clinics, leads, users and requests: the one place tests make their data.

Each factory writes its rows and commits, as the app would have, and returns what it made.
Defaults are plain and fictional (example.com addresses, +7 701 555 numbers); a test passes
only what its behaviour turns on.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta
from functools import cache
from io import BytesIO
from typing import Any

from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import (
    Assignment,
    Clinic,
    ClinicCredential,
    ClinicLanguage,
    ClinicStatus,
    ClinicUser,
    CredentialKind,
    DeliveryStatus,
    Lead,
    LeadAttachment,
    LeadNote,
    Offering,
    PrivacyRequest,
    PrivacyRequestKind,
    Procedure,
    Quote,
    StaffRole,
    StaffUser,
    WebhookDelivery,
)
from app.models.base import utcnow
from app.services import audit
from app.services.accounts.passwords import hash_password
from app.services.accounts.staff import create_staff
from app.services.integrations import keys
from app.services.leads.intake import CONSENT_VERSION, new_reference
from app.services.leads.processing import ProcessingPolicy, process_lead
from app.services.privacy import attachments
from tests.support.clock import NOW
from tests.support.data import PDF_BYTES, inquiry
from tests.support.forms import submit
from tests.support.policies import PROCESSING

STAFF_PASSWORD = "correct horse battery staple"
CLINIC_PASSWORD = "a clinic password for tests"


# --- clinics --------------------------------------------------------------------------------


def procedure(slug: str = "autologous-msc-injection") -> Procedure:
    """A procedure of the catalogue (the inquiry form's default unless `slug` says)."""
    return db.session.scalar(select(Procedure).where(Procedure.slug == slug))


def make_clinic(
    name: str,
    *,
    languages: tuple[str, ...] = ("ko",),
    price_min: int | None = 8000,
    capacity: int = 10,
    status: ClinicStatus = ClinicStatus.APPROVED,
    status_reason: str | None = None,
    offers: str = "autologous-msc-injection",
    licence_expires: date | None = None,
    insured_until: date | None = None,
    accreditations: dict[str, date | None] | None = None,
    language: str = "en",
) -> Clinic:
    """A clinic offering one procedure, approved unless `status` (and `status_reason`) say,
    with a licence that never lapses unless `licence_expires` is given, insurance only if
    `insured_until` is, and `accreditations` as {code: expiry}. Its slug and email address
    come from `name`. Its emails and portal are in English unless `language` says (a clinic
    that applies is Korean by default; tests read English)."""
    credentials = [
        ClinicCredential(
            kind=CredentialKind.LICENCE, code="licence", reference="L", expires_on=licence_expires
        )
    ]
    if insured_until is not None:
        credentials.append(
            ClinicCredential(
                kind=CredentialKind.INSURANCE,
                code="insurance",
                reference="I",
                expires_on=insured_until,
            )
        )
    credentials += [
        ClinicCredential(kind=CredentialKind.ACCREDITATION, code=code, expires_on=expires)
        for code, expires in (accreditations or {}).items()
    ]
    clinic = Clinic(
        slug=name.lower().replace(" ", "-"),
        name=name,
        contact_name="Test Contact",
        email=f"{name.lower().replace(' ', '.')}@clinic.example.com",
        phone="+8225550100",
        address="1 Test-ro",
        district="Gangnam-gu",
        city="Seoul",
        registration_number="0",
        weekly_capacity=capacity,
        language=language,
        status=status,
        status_reason=status_reason,
        languages=[ClinicLanguage(language=code) for code in languages],
        offerings=[
            Offering(
                procedure=procedure(offers),
                price_min_usd=price_min,
                price_max_usd=None if price_min is None else price_min + 5000,
            )
        ],
        credentials=credentials,
    )
    db.session.add(clinic)
    db.session.commit()
    return clinic


def directory_clinics() -> list[Clinic]:
    """Three listed clinics, as a patient's inquiry finds them end to end: the first two offer
    the inquiry form's default procedure (autologous MSC injection), the third does not."""
    return [
        make_clinic("Seolleung Test Clinic", languages=("ko", "en"), capacity=6),
        make_clinic("Namsan Test Hospital", languages=("ko", "en", "ja", "ar")),
        make_clinic(
            "Hangang Test Centre", languages=("ko", "en", "ru", "mn"), capacity=20, offers="aci"
        ),
    ]


@cache
def _clinic_password_hash() -> str:
    """argon2id is slow on purpose; one hash serves every test's clinic users."""
    return hash_password(CLINIC_PASSWORD)


def make_clinic_user(
    clinic: Clinic, email: str | None = None, *, with_password: bool = True
) -> ClinicUser:
    """A portal account of `clinic` (its own address unless `email`), signed in with
    CLINIC_PASSWORD; `with_password=False` is an account still waiting for its password link."""
    user = ClinicUser(
        clinic=clinic,
        email=email or clinic.email,
        password_hash=_clinic_password_hash() if with_password else None,
        password_set_at=utcnow() if with_password else None,
    )
    db.session.add(user)
    db.session.commit()
    return user


# --- leads ----------------------------------------------------------------------------------


def make_lead(**changes: Any) -> Lead:
    """A new lead as intake stores it (status new, not routed), created at NOW; `changes` are
    Lead columns."""
    values: dict[str, Any] = {
        "reference": new_reference(),
        "full_name": "Test Patient",
        "email": "patient@example.com",
        "phone": "+77015550101",
        "country": "KZ",
        "language": "ru",
        "procedure": procedure(),
        "message": "knee " * 10,
        "budget_usd": 10000,
        "consent_version": CONSENT_VERSION,
        "created_at": NOW,
    }
    values.update(changes)
    lead = Lead(**values)
    db.session.add(lead)
    db.session.commit()
    return lead


def routed_lead(*, policy: ProcessingPolicy = PROCESSING, **changes: Any) -> Lead:
    """A lead made by `make_lead(**changes)` and processed (dedup, then routing to the clinics
    there are) at its creation time, read back afresh."""
    lead = make_lead(**changes)
    process_lead(db.session, lead.id, policy, now=changes.get("created_at", NOW))
    db.session.expire_all()
    return db.session.get(Lead, lead.id)


def offer_lead(lead: Lead, clinic: Clinic) -> Assignment:
    """`lead` offered to `clinic` after its first routing, the patient not yet asked: the
    clinic sees the procedure and the country only."""
    assignment = Assignment(
        lead=lead, clinic=clinic, rank=len(lead.assignments) + 1, consent_requested_at=NOW
    )
    db.session.add(assignment)
    db.session.commit()
    return assignment


def attach_pdf(lead: Lead, upload_dir: str) -> LeadAttachment:
    """The patient's file: a small PDF, stored encrypted in `upload_dir` as intake stores it."""
    stored, size = attachments.store(BytesIO(PDF_BYTES), upload_dir)
    attachment = LeadAttachment(
        lead=lead, stored_name=stored, content_type="application/pdf", size_bytes=size
    )
    db.session.add(attachment)
    db.session.commit()
    return attachment


def add_note(lead: Lead, staff_user_id: int, body: str) -> LeadNote:
    note = LeadNote(lead_id=lead.id, staff_user_id=staff_user_id, body=body)
    db.session.add(note)
    db.session.commit()
    return note


def add_quote(assignment: Assignment, **changes: Any) -> Quote:
    """A clinic's quote for its assignment: USD 9,000-12,000 with seven nights' stay, valid
    for 30 days from NOW; `changes` are Quote columns."""
    values: dict[str, Any] = {
        "price_min": 9000,
        "price_max": 12000,
        "currency": "USD",
        "includes": "Injection and MRI",
        "stay_nights": 7,
        "valid_until": NOW.date() + timedelta(days=30),
    }
    values.update(changes)
    quote = Quote(assignment=assignment, **values)
    db.session.add(quote)
    db.session.commit()
    return quote


def send_inquiry(app: Flask, **changes: str) -> Lead:
    """A lead made as a patient makes one: the inquiry form posted over HTTP (its answers are
    `tests.support.data.inquiry(**changes)`). Returns the newest lead."""
    response = submit(app.test_client(), "/inquire", inquiry(**changes))
    assert response.status_code == 302, response.text
    db.session.expire_all()
    return db.session.scalars(select(Lead).order_by(Lead.id.desc())).first()


# --- staff, API keys and patients' requests ------------------------------------------------


def make_staff(
    email: str = "triager@careroute.test", role: StaffRole = StaffRole.TRIAGER
) -> StaffUser:
    """A staff account signing in with STAFF_PASSWORD."""
    return create_staff(db.session, email, role, STAFF_PASSWORD)


def make_api_key(owner: keys.Owner, scopes: tuple[str, ...]) -> str:
    """A live key of `owner` that may do `scopes`: the whole key, to send as
    `Authorization: Bearer <key>`."""
    made = keys.create_key(db.session, "Test key", scopes, audit.Actor.system("test"), owner)
    return made.secret


def make_webhook_delivery(subscription_id: int, **changes: Any) -> WebhookDelivery:
    """A delivery of `assignment.answered` that used up its attempts against a server
    answering 503, unless `changes` say otherwise."""
    delivery = WebhookDelivery(
        subscription_id=subscription_id,
        message_id=f"msg_{secrets.token_hex(12)}",
        event="assignment.answered",
        payload={"type": "assignment.answered", "data": {"lead_id": 1}},
        status=DeliveryStatus.FAILED,
        attempts=8,
        last_status_code=503,
        last_error="answered 503",
    )
    for name, value in changes.items():
        setattr(delivery, name, value)
    db.session.add(delivery)
    db.session.commit()
    return delivery


def make_privacy_request(
    kind: PrivacyRequestKind,
    email: str,
    lead: Lead | None = None,
    handled_at: datetime | None = None,
) -> PrivacyRequest:
    """A patient's request about `email`'s data, open unless `handled_at` is given."""
    request = PrivacyRequest(kind=kind, email=email, lead=lead, handled_at=handled_at)
    db.session.add(request)
    db.session.commit()
    return request
