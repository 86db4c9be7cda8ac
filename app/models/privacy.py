"""Patients' requests for a copy of their data or its erasure (GDPR Art. 15 and 17)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.base import UTCDateTime, utcnow
from app.models.leads import Lead
from app.models.types import str_enum


class PrivacyRequestKind(enum.StrEnum):
    EXPORT = "export"
    ERASE = "erase"


class PrivacyRequest(Model):
    __tablename__ = "privacy_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[PrivacyRequestKind] = mapped_column(
        str_enum(PrivacyRequestKind, "privacy_request_kind")
    )
    # Every lead of this address is covered; blanked once an erasure is done.
    email: Mapped[str] = mapped_column(String(254), index=True)
    # The lead whose confirmation email carried the link.
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))

    lead: Mapped[Lead | None] = relationship()
