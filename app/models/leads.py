"""Patient inquiries (leads), the files they attach, and the clinics they are routed to."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from app.encryption import data_keys
from app.extensions import Model
from app.models.base import UTCDateTime, utcnow
from app.models.catalog import Procedure
from app.models.clinics import Clinic
from app.models.types import EncryptedText, JSONDocument, str_enum

if TYPE_CHECKING:
    from app.models.staff import StaffUser
    from app.models.triage import Tag


def _values(kind: type[enum.StrEnum]) -> list[str]:
    return [member.value for member in kind]


class LeadStatus(enum.StrEnum):
    NEW = "new"
    ROUTED = "routed"
    CONTACTED = "contacted"
    QUOTED = "quoted"
    BOOKED = "booked"
    CLOSED = "closed"
    DUPLICATE = "duplicate"
    SPAM = "spam"
    LOST = "lost"
    WITHDRAWN = "withdrawn"


# Being worked on: the lead may still hold clinics, and staff's first answer is owed. The
# other statuses are settled.
OPEN_STATUSES = (
    LeadStatus.NEW,
    LeadStatus.ROUTED,
    LeadStatus.CONTACTED,
    LeadStatus.QUOTED,
    LeadStatus.BOOKED,
)


class RevokedReason(enum.StrEnum):
    """Why a clinic no longer sees a lead: shown to staff and, in words, to the patient."""

    SETTLED = "settled"
    WITHDRAWN = "withdrawn"
    PATIENT_STOPPED = "patient_stopped"
    CHOSE_OTHER = "chose_other"
    CONSENT_REFUSED = "consent_refused"
    CONSENT_EXPIRED = "consent_expired"


class ClinicResponse(enum.StrEnum):
    CONTACTED = "contacted"
    QUOTED = "quoted"
    DECLINED = "declined"


# The partial index's condition, written as `queries.py` writes the filter so PostgreSQL sees
# that the filter implies it.
_AWAITING_STAFF = (
    "staff_responded_at IS NULL AND staff_due_at IS NOT NULL AND status IN ("
    + ", ".join(f"'{status.value}'" for status in OPEN_STATUSES)
    + ")"
)


class Lead(Model):
    __tablename__ = "leads"
    # The console lists leads newest first under any one filter; each filter has an index
    # that ends in (created_at, id), so PostgreSQL walks it in order and stops at a page.
    __table_args__ = (
        Index("ix_leads_email_procedure", "email", "procedure_id", "created_at"),
        Index("ix_leads_phone_procedure", "phone_digest", "procedure_id", "created_at"),
        Index("ix_leads_created", "created_at", "id"),
        Index("ix_leads_updated", "updated_at", "id"),
        Index("ix_leads_status_created", "status", "created_at", "id"),
        Index("ix_leads_procedure_created", "procedure_id", "created_at", "id"),
        Index("ix_leads_country_created", "country", "created_at", "id"),
        Index("ix_leads_language_created", "language", "created_at", "id"),
        Index("ix_leads_assignee_created", "assigned_to_id", "created_at", "id"),
        Index("ix_leads_source_created", "source", "created_at", "id"),
        Index(
            "ix_leads_partner_created",
            "partner_id",
            "created_at",
            "id",
            postgresql_where=text("partner_id IS NOT NULL"),
            sqlite_where=text("partner_id IS NOT NULL"),
        ),
        # A flag holds for few leads: each has a partial index in the same order, carrying the
        # status, so the flag's page and its tab counts read only flagged leads' index entries.
        *(
            Index(
                f"ix_leads_{flag}_created",
                "created_at",
                "id",
                postgresql_include=["status"],
                postgresql_where=text(f"{flag} IS TRUE"),
                sqlite_where=text(f"{flag} IS TRUE"),
            )
            for flag in ("no_matching_clinic", "clinic_silent", "processing_failed")
        ),
        # Leads still owed staff's first answer: few at any time (staff answer within hours),
        # so the "overdue" filter reads only these entries, in the list's order.
        Index(
            "ix_leads_awaiting_staff_created",
            "created_at",
            "id",
            postgresql_include=["status", "staff_due_at"],
            postgresql_where=text(_AWAITING_STAFF),
            sqlite_where=text(_AWAITING_STAFF),
        ),
        CheckConstraint("budget_usd IS NULL OR budget_usd > 0", name="budget_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # What the patient quotes to us; random, so it reveals nothing about volume or order.
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    # The form's one-time id: a double click or a refresh finds the lead it already made.
    submission_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    # Encrypted at rest; found through `phone_digest`, its blind index (app.encryption).
    phone: Mapped[str] = mapped_column(EncryptedText)
    phone_digest: Mapped[str | None] = mapped_column(String(64))
    country: Mapped[str] = mapped_column(String(2))
    language: Mapped[str] = mapped_column(String(8))
    procedure_id: Mapped[int] = mapped_column(ForeignKey("procedures.id"))
    chosen_clinic_id: Mapped[int | None] = mapped_column(ForeignKey("clinics.id"))
    # Health data: encrypted at rest, and loaded only where it is shown.
    message: Mapped[str] = mapped_column(EncryptedText, deferred=True, deferred_raiseload=False)
    budget_usd: Mapped[int | None] = mapped_column(Integer)
    travel_from: Mapped[date | None] = mapped_column(Date)
    travel_to: Mapped[date | None] = mapped_column(Date)
    needs_interpreter: Mapped[bool] = mapped_column(Boolean, default=False)
    needs_visa_letter: Mapped[bool] = mapped_column(Boolean, default=False)
    needs_accommodation: Mapped[bool] = mapped_column(Boolean, default=False)
    has_mri: Mapped[bool] = mapped_column(Boolean, default=False)
    # Asked from the patient's page once a clinic confirmed; the clinic uploads the letter.
    visa_letter_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The day the chosen clinic confirmed for the treatment: the lead is booked.
    treatment_date: Mapped[date | None] = mapped_column(Date)
    consent_version: Mapped[str] = mapped_column(String(40))
    consented_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    consent_withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Where the inquiry came from: "web" (our form), "partner" (a partner's embedded form or
    # key) or "api" (a staff or clinic key); `partner_id` and `api_key_id` say which.
    source: Mapped[str] = mapped_column(String(100), default="web")
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"))
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"))
    status: Mapped[LeadStatus] = mapped_column(
        str_enum(LeadStatus, "lead_status"), default=LeadStatus.NEW
    )
    # Why staff gave up on the lead; may hold health details, so encrypted like the message.
    lost_reason: Mapped[str | None] = mapped_column(EncryptedText)
    spam_reason: Mapped[str | None] = mapped_column(String(100))
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"))
    # Staff undid the duplicate mark: the lead is a distinct inquiry, never checked again.
    dedup_overruled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    no_matching_clinic: Mapped[bool] = mapped_column(Boolean, default=False)
    # A clinic let its deadline pass on this lead (the lead went to the next clinic).
    clinic_silent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Counted before each routing attempt, so a lead whose processing kills the worker
    # every time stops being retried and is flagged for staff instead.
    processing_attempts: Mapped[int] = mapped_column(Integer, default=0)
    processing_failed: Mapped[bool] = mapped_column(Boolean, default=False)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    # Staff's first-response clock: due STAFF_RESPONSE_HOURS business hours after the lead
    # arrived, stopped by staff's first message to the patient. None: the lead predates it.
    staff_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    staff_responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Contact details, message and files destroyed (retention or the patient's request).
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    procedure: Mapped[Procedure] = relationship()
    chosen_clinic: Mapped[Clinic | None] = relationship()
    duplicate_of: Mapped[Lead | None] = relationship(remote_side=[id])
    assignments: Mapped[list[Assignment]] = relationship(
        back_populates="lead", order_by="Assignment.rank"
    )
    attachments: Mapped[list[LeadAttachment]] = relationship(
        back_populates="lead", order_by="LeadAttachment.id"
    )
    staff_messages: Mapped[list[StaffMessage]] = relationship(
        back_populates="lead", order_by="StaffMessage.id"
    )
    tags: Mapped[list[Tag]] = relationship(
        secondary="lead_tags", order_by="Tag.name", viewonly=True
    )

    @validates("phone")
    def _index_phone(self, key: str, value: str) -> str:
        self.phone_digest = data_keys().digest(value) if value else None
        return value

    def __repr__(self) -> str:
        return f"<Lead {self.reference} {self.status}>"


class AttachmentKind(enum.StrEnum):
    # The patient's: an MRI report or image, sent with the inquiry or added on their page.
    MEDICAL = "medical"
    # The chosen clinic's confirmation for a medical visa, for the patient to download.
    VISA_LETTER = "visa_letter"


class LeadAttachment(Model):
    """A file about the lead, stored outside any served folder under a random name."""

    __tablename__ = "lead_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    kind: Mapped[AttachmentKind] = mapped_column(
        str_enum(AttachmentKind, "attachment_kind"),
        default=AttachmentKind.MEDICAL,
        server_default=AttachmentKind.MEDICAL.value,
    )
    # Who added it: the clinic for a visa letter, None for the patient.
    clinic_id: Mapped[int | None] = mapped_column(ForeignKey("clinics.id"))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lead: Mapped[Lead] = relationship(back_populates="attachments")


class Assignment(Model):
    __tablename__ = "assignments"
    __table_args__ = (
        UniqueConstraint("lead_id", "clinic_id"),
        Index("ix_assignments_clinic_created", "clinic_id", "created_at"),
        Index("ix_assignments_lead", "lead_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    rank: Mapped[int] = mapped_column(Integer)
    # Why this clinic: the ranking's inputs, shown to staff.
    score: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the notification email was accepted by the mail server: the deadline clock starts.
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    viewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The first answer (answer time counts to it); `response` holds the latest answer.
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    response: Mapped[ClinicResponse | None] = mapped_column(
        str_enum(ClinicResponse, "clinic_response")
    )
    decline_reason: Mapped[str | None] = mapped_column(EncryptedText)  # may hold health details
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The clinic stayed silent past its deadline and the lead was offered to another clinic.
    expired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The clinic no longer sees the lead, and why.
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[RevokedReason | None] = mapped_column(
        Enum(RevokedReason, native_enum=False, length=40, values_callable=_values)
    )
    # A clinic offered the lead after the first routing sees the procedure and country only
    # until the patient agrees (`shared_at`); the first clinics are named in the confirmation
    # and are shared with at routing.
    consent_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The patient chose to go ahead with this clinic (undone by choosing another until the
    # clinic confirms); `confirmed_at` when the clinic confirmed a treatment date.
    chosen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    lead: Mapped[Lead] = relationship(back_populates="assignments")
    clinic: Mapped[Clinic] = relationship()
    quote: Mapped[Quote | None] = relationship(back_populates="assignment")
    messages: Mapped[list[LeadMessage]] = relationship(
        back_populates="assignment", order_by="LeadMessage.id"
    )

    @property
    def awaiting_consent(self) -> bool:
        """Offered to this clinic, but the patient has not agreed to share their details."""
        return self.consent_requested_at is not None and self.shared_at is None

    @property
    def is_open(self) -> bool:
        """Routed to the clinic and still in its hands: visible in the portal."""
        return self.revoked_at is None and self.expired_at is None

    @property
    def awaiting_answer(self) -> bool:
        return self.is_open and self.responded_at is None

    @property
    def holds_lead(self) -> bool:
        """Counts towards the lead's clinics: open and not declined."""
        return self.is_open and self.response is not ClinicResponse.DECLINED


class Quote(Model):
    """A clinic's structured quote, so patient and staff can compare clinics side by side."""

    __tablename__ = "quotes"
    __table_args__ = (
        CheckConstraint("price_min > 0 AND price_min <= price_max", name="price_range_ordered"),
        CheckConstraint("stay_nights >= 0", name="stay_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("assignments.id", ondelete="CASCADE"), unique=True
    )
    price_min: Mapped[int] = mapped_column(Integer)
    price_max: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    includes: Mapped[str] = mapped_column(Text)
    stay_nights: Mapped[int] = mapped_column(Integer)
    valid_until: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(EncryptedText, default="")  # may hold health details
    # Each standard part of a treatment (a QuotePart) and how the quote covers it:
    # {"mri": {"cover": "separate", "price": 400}}; a part left out is not offered.
    items: Mapped[dict[str, Any]] = mapped_column(
        JSONDocument, default=dict, server_default=text("'{}'")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    assignment: Mapped[Assignment] = relationship(back_populates="quote")


class MessageSender(enum.StrEnum):
    PATIENT = "patient"
    CLINIC = "clinic"


class LeadMessage(Model):
    """One message in the thread between a patient and one clinic that holds their lead.

    Health data like the inquiry's own message: encrypted at rest, never in an email."""

    __tablename__ = "lead_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("assignments.id", ondelete="CASCADE"), index=True
    )
    sender: Mapped[MessageSender] = mapped_column(str_enum(MessageSender, "message_sender"))
    clinic_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("clinic_users.id", ondelete="SET NULL")
    )
    body: Mapped[str] = mapped_column(EncryptedText)
    # This message's arrival emailed the other side; later ones within the quiet time do not.
    noticed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    assignment: Mapped[Assignment] = relationship(back_populates="messages")


class LeadNote(Model):
    """A staff member's note on a lead (may hold health details: shown only in the console)."""

    __tablename__ = "lead_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    staff_user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    body: Mapped[str] = mapped_column(EncryptedText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[StaffUser] = relationship()


class StaffMessage(Model):
    """A message from CareRoute's staff to the patient, read on the patient's page.

    Not a `LeadMessage`: those make the thread between the patient and one clinic, which
    that clinic reads in its portal; this one no clinic sees, and a lead no clinic took
    (the one most in need of a word from staff) has no thread to put it in. Health data
    like any message: encrypted at rest, never in an email."""

    __tablename__ = "staff_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    staff_user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    body: Mapped[str] = mapped_column(EncryptedText)
    # The form's one-time id: a double click finds the message it already sent.
    submission_id: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lead: Mapped[Lead] = relationship(back_populates="staff_messages")
    author: Mapped[StaffUser] = relationship()
