"""Which staff member a new lead goes to (not which clinics: that is routing's
`Assignment`). Rules are tried in `position` order; the first one whose language and
procedure fit the lead decides."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.base import UTCDateTime, utcnow
from app.models.catalog import Procedure
from app.models.staff import StaffUser


class AssignmentRule(Model):
    __tablename__ = "assignment_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    # Empty: any language, any procedure.
    language: Mapped[str | None] = mapped_column(String(8))
    procedure_id: Mapped[int | None] = mapped_column(ForeignKey("procedures.id"))
    # The matching lead stays unassigned for staff to pick, whoever is on duty.
    leave_to_pick: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    procedure: Mapped[Procedure | None] = relationship()
    members: Mapped[list[AssignmentRuleMember]] = relationship(
        back_populates="rule", cascade="all, delete-orphan", order_by="AssignmentRuleMember.id"
    )


class AssignmentRuleMember(Model):
    """One staff member of a rule's round-robin pool; `last_assigned_at` is the rotation's
    state, kept here so several workers take turns exactly."""

    __tablename__ = "assignment_rule_members"
    __table_args__ = (UniqueConstraint("rule_id", "staff_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("assignment_rules.id", ondelete="CASCADE"))
    staff_user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    last_assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    rule: Mapped[AssignmentRule] = relationship(back_populates="members")
    staff_user: Mapped[StaffUser] = relationship()
