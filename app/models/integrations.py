"""What lets other systems in: partner sites that send patients, and the API keys of
partners, clinics and staff."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.base import UTCDateTime, utcnow
from app.models.clinics import Clinic
from app.models.staff import StaffUser
from app.models.types import JSONDocument


class Partner(Model):
    """A site that sends patients: a blog, an agency, a coordinator. `public_id` names it in
    URLs (the embedded form); `origins` may frame that form."""

    __tablename__ = "partners"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    origins: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiKey(Model):
    """One key of a partner, a clinic or a staff member (exactly one owner).

    The secret is shown once and kept only as its SHA-256: keys are long random strings, so
    a fast hash is enough (unlike passwords), and each request pays for one lookup by
    `prefix`, the part of the key that is not secret."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    scopes: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"), index=True)
    clinic_id: Mapped[int | None] = mapped_column(ForeignKey("clinics.id"), index=True)
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    partner: Mapped[Partner | None] = relationship()
    clinic: Mapped[Clinic | None] = relationship()
    staff_user: Mapped[StaffUser | None] = relationship()
