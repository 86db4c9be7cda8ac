"""The people of a clinic who sign in to the portal (several per clinic)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.base import UTCDateTime, utcnow
from app.models.clinics import Clinic


class ClinicUser(Model):
    __tablename__ = "clinic_users"
    __table_args__ = (
        # One active account per address; a rejected clinic's users are deactivated, so its
        # address can apply again.
        Index(
            "uq_clinic_users_active_email",
            "email",
            unique=True,
            postgresql_where=text("active"),
            sqlite_where=text("active"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    # None until the user follows a password link from an email.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The portal's language for this user; None follows the clinic's.
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    password_set_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    clinic: Mapped[Clinic] = relationship()

    def __repr__(self) -> str:
        return f"<ClinicUser {self.email} of clinic {self.clinic_id}>"
