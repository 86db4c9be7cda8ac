"""Who did what: every state change by a person (or the system on their behalf)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Insert, Integer, insert, literal, select

from app.models import AuditEvent, ClinicUser, StaffUser
from app.models.base import DbSession, table_of


@dataclass(frozen=True)
class Actor:
    type: str
    id: int | None
    label: str

    @classmethod
    def staff(cls, user: StaffUser) -> Actor:
        return cls("staff", user.id, user.email)

    @classmethod
    def clinic_user(cls, user: ClinicUser) -> Actor:
        return cls("clinic_user", user.id, user.email)

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls("system", None, label)

    @classmethod
    def assignment_rule(cls, rule_id: int) -> Actor:
        """An admin's rule that gave a new lead to a staff member."""
        return cls("assignment_rule", rule_id, f"assignment rule {rule_id}")

    @classmethod
    def public(cls, label: str) -> Actor:
        """Someone not signed in: a clinic applying, a patient following an email link."""
        return cls("public", None, label)


def record(
    session: DbSession,
    actor: Actor,
    action: str,
    *,
    changes: dict[str, Any] | None = None,
    **subject: int | None,
) -> None:
    """Write an audit event in the caller's transaction, so it commits with the change.

    What it is about is one keyword naming the object's type: `lead=lead.id`,
    `clinic=clinic.id`, `retention=None` (an event about no one row).
    """
    if len(subject) != 1:
        raise TypeError(f"an audit event is about one object, not {sorted(subject)}")
    [(object_type, object_id)] = subject.items()
    session.execute(
        insert(table_of(AuditEvent)).values(
            actor_type=actor.type,
            actor_id=actor.id,
            actor_label=actor.label,
            action=action,
            object_type=object_type,
            object_id=object_id,
            changes=changes or {},
        )
    )


def recorded_from(
    actor: Actor,
    action: str,
    at: ColumnElement[Any],
    changes: ColumnElement[Any],
    **subject: ColumnElement[int],
) -> Insert:
    """The event as an INSERT ... SELECT whose object id is a column of another statement
    (a CTE's RETURNING): a hot path writes its row and the row's event in one statement.
    `at` and `changes` are SQL expressions too, as the statement is built once."""
    [(object_type, object_id)] = subject.items()
    return insert(table_of(AuditEvent)).from_select(
        [
            "created_at",
            "actor_type",
            "actor_id",
            "actor_label",
            "action",
            "object_type",
            "object_id",
            "changes",
        ],
        select(
            at,
            literal(actor.type),
            literal(actor.id, Integer),
            literal(actor.label),
            literal(action),
            literal(object_type),
            object_id,
            changes,
        ),
    )


def events_for(
    session: DbSession, object_type: str, object_id: int, newest_first: bool = False
) -> list[AuditEvent]:
    """One object's trail (a lead's timeline, a clinic's review history), in the order the
    page reads it."""
    order = AuditEvent.id.desc() if newest_first else AuditEvent.id
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.object_type == object_type, AuditEvent.object_id == object_id)
            .order_by(order)
        )
    )
