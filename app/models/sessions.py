"""Server-side sign-in sessions, for staff in the console and clinic users in the portal."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.base import UTCDateTime, utcnow
from app.models.clinic_users import ClinicUser
from app.models.clinics import ClinicStatus
from app.models.staff import StaffUser

# A pending clinic may prepare its listing; a suspended one still answers the leads it has.
PORTAL_STATUSES = (ClinicStatus.PENDING, ClinicStatus.APPROVED, ClinicStatus.SUSPENDED)


class LoginSession(Model, UserMixin):
    """One sign-in. Its random id is what the cookie carries, so logout can end it for good.

    Flask-Login's "user" is this session: `get_id()` returns the session id, and the loader
    refuses a session that was ended, idled out or outlived its maximum age. A session
    belongs to exactly one staff member or one clinic user, so a clinic user's cookie never
    opens the console.
    """

    __tablename__ = "login_sessions"
    __table_args__ = (
        CheckConstraint(
            "(staff_user_id IS NULL) <> (clinic_user_id IS NULL)", name="one_kind_of_account"
        ),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    clinic_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("clinic_users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    staff_user: Mapped[StaffUser | None] = relationship()
    clinic_user: Mapped[ClinicUser | None] = relationship()

    def get_id(self) -> str:
        return self.id

    @property
    def is_staff(self) -> bool:
        return self.staff_user_id is not None

    @property
    def is_clinic_user(self) -> bool:
        return self.clinic_user_id is not None

    @property
    def is_active(self) -> bool:
        if self.ended_at is not None:
            return False
        if self.staff_user is not None:
            return self.staff_user.active
        user = self.clinic_user
        return user is not None and user.active and user.clinic.status in PORTAL_STATUSES
