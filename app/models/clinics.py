"""Clinics, what they offer, and the credentials that keep them listable."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.base import UTCDateTime, utcnow
from app.models.catalog import Procedure
from app.models.types import str_enum


class ClinicStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUSPENDED = "suspended"


class CredentialKind(enum.StrEnum):
    LICENCE = "licence"
    INSURANCE = "insurance"
    ACCREDITATION = "accreditation"


class Clinic(Model):
    __tablename__ = "clinics"
    __table_args__ = (
        # One live listing per address: a rejected clinic may apply again with the same email.
        Index(
            "uq_clinics_live_email",
            "email",
            unique=True,
            postgresql_where=text("status IN ('pending', 'approved', 'suspended')"),
            sqlite_where=text("status IN ('pending', 'approved', 'suspended')"),
        ),
        CheckConstraint("weekly_capacity >= 0", name="weekly_capacity_not_negative"),
        # Routing's order after its leading criteria: most capacity left, fewest recent leads.
        Index(
            "ix_clinics_routing_order",
            text("(weekly_capacity - week_leads) DESC"),
            "month_leads",
            "id",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    contact_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    phone: Mapped[str] = mapped_column(String(32))
    website: Mapped[str | None] = mapped_column(String(500))
    address: Mapped[str] = mapped_column(String(500))
    district: Mapped[str] = mapped_column(String(100))
    city: Mapped[str] = mapped_column(String(100))
    registration_number: Mapped[str] = mapped_column(String(10))
    description: Mapped[str] = mapped_column(Text, default="")
    weekly_capacity: Mapped[int] = mapped_column(Integer, default=10)
    # The language of the clinic's emails and portal (each user may choose their own).
    language: Mapped[str] = mapped_column(String(8), default="ko", server_default="ko")
    # Live assignments in the last 7 and 30 days, kept by app/services/routing.py.
    week_leads: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    month_leads: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    status: Mapped[ClinicStatus] = mapped_column(
        str_enum(ClinicStatus, "clinic_status"), default=ClinicStatus.PENDING, index=True
    )
    status_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))

    languages: Mapped[list[ClinicLanguage]] = relationship(
        back_populates="clinic", cascade="all, delete-orphan", order_by="ClinicLanguage.language"
    )
    offerings: Mapped[list[Offering]] = relationship(
        back_populates="clinic", cascade="all, delete-orphan"
    )
    credentials: Mapped[list[ClinicCredential]] = relationship(
        back_populates="clinic", cascade="all, delete-orphan", order_by="ClinicCredential.id"
    )

    @property
    def language_codes(self) -> list[str]:
        return [row.language for row in self.languages]

    @property
    def accreditations(self) -> list[ClinicCredential]:
        return [c for c in self.credentials if c.kind is CredentialKind.ACCREDITATION]

    def credential(self, kind: CredentialKind) -> ClinicCredential | None:
        return next((c for c in self.credentials if c.kind is kind), None)

    @property
    def license_number(self) -> str | None:
        licence = self.credential(CredentialKind.LICENCE)
        return licence.reference if licence else None

    def lapsed_credentials(self, today: date) -> list[ClinicCredential]:
        """Licence or insurance past its expiry: such a clinic is not routed to."""
        return [
            c
            for c in self.credentials
            if c.kind in (CredentialKind.LICENCE, CredentialKind.INSURANCE) and c.is_lapsed(today)
        ]

    def __repr__(self) -> str:
        return f"<Clinic {self.slug} {self.status}>"


class ClinicLanguage(Model):
    """A language the clinic's staff speak (a row each, so routing can match it in SQL)."""

    __tablename__ = "clinic_languages"

    clinic_id: Mapped[int] = mapped_column(
        ForeignKey("clinics.id", ondelete="CASCADE"), primary_key=True
    )
    language: Mapped[str] = mapped_column(String(8), primary_key=True, index=True)
    clinic: Mapped[Clinic] = relationship(back_populates="languages")


class Offering(Model):
    __tablename__ = "offerings"
    __table_args__ = (
        UniqueConstraint("clinic_id", "procedure_id"),
        CheckConstraint(
            "price_min_usd IS NULL OR price_max_usd IS NULL OR price_min_usd <= price_max_usd",
            name="price_range_ordered",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"))
    procedure_id: Mapped[int] = mapped_column(ForeignKey("procedures.id"), index=True)
    price_min_usd: Mapped[int | None] = mapped_column(Integer)
    price_max_usd: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[str] = mapped_column(Text, default="")

    clinic: Mapped[Clinic] = relationship(back_populates="offerings")
    procedure: Mapped[Procedure] = relationship()


class ClinicCredential(Model):
    """Licence, malpractice insurance or an accreditation, with the date it lapses."""

    __tablename__ = "clinic_credentials"
    __table_args__ = (UniqueConstraint("clinic_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"))
    kind: Mapped[CredentialKind] = mapped_column(str_enum(CredentialKind, "credential_kind"))
    # "licence", "insurance", or the accreditation's code (see app.services.clinics.catalog).
    code: Mapped[str] = mapped_column(String(40))
    reference: Mapped[str | None] = mapped_column(String(100))
    expires_on: Mapped[date | None] = mapped_column(Date, index=True)
    # The expiry date a reminder was sent for; a new date earns a new reminder.
    reminded_for: Mapped[date | None] = mapped_column(Date)

    clinic: Mapped[Clinic] = relationship(back_populates="credentials")

    def is_lapsed(self, today: date) -> bool:
        return self.expires_on is not None and self.expires_on < today
