"""Which staff member a new lead goes to: the admins' rules, tried in order.

The first rule whose language and procedure fit the lead decides: it gives the lead to the
on-duty member of its pool assigned least recently, or leaves it for staff to pick. No
rule, or nobody of the pool on duty, leaves the lead unassigned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from app.models import AssignmentRule, AssignmentRuleMember, Lead, StaffUser
from app.models.base import DbSession, utcnow
from app.services import audit


class RuleRefused(ValueError):
    pass


@dataclass(frozen=True)
class RuleSpec:
    """What an admin sets: empty language or procedure means any; an empty pool with
    `leave_to_pick` false is refused."""

    language: str | None
    procedure_id: int | None
    staff_ids: Sequence[int]
    leave_to_pick: bool


def all_rules(session: DbSession) -> list[AssignmentRule]:
    """In the order they are tried."""
    return list(
        session.scalars(
            select(AssignmentRule)
            .options(
                selectinload(AssignmentRule.members).selectinload(AssignmentRuleMember.staff_user),
                selectinload(AssignmentRule.procedure),
            )
            .order_by(AssignmentRule.position, AssignmentRule.id)
        )
    )


def matching_rule(session: DbSession, lead: Lead) -> AssignmentRule | None:
    """The first rule that fits, its row locked: two workers choosing from the same pool
    take turns, so the rotation is exact."""
    return session.scalar(
        select(AssignmentRule)
        .where(
            or_(AssignmentRule.language.is_(None), AssignmentRule.language == lead.language),
            or_(
                AssignmentRule.procedure_id.is_(None),
                AssignmentRule.procedure_id == lead.procedure_id,
            ),
        )
        .order_by(AssignmentRule.position, AssignmentRule.id)
        .limit(1)
        .with_for_update()
    )


def assign_by_rules(session: DbSession, lead: Lead) -> int | None:
    """In the caller's transaction (the worker's, processing the lead); returns the
    assignee's id. Audited with the rule as the actor."""
    if lead.assigned_to_id is not None:
        return None
    # The lead's own changes wait for the caller's flush: one UPDATE of the lead, not two.
    with session.no_autoflush:
        return _assign(session, lead)


def _assign(session: DbSession, lead: Lead) -> int | None:
    rule = matching_rule(session, lead)
    if rule is None or rule.leave_to_pick:
        return None
    member = session.scalar(
        select(AssignmentRuleMember)
        .join(StaffUser, StaffUser.id == AssignmentRuleMember.staff_user_id)
        .where(
            AssignmentRuleMember.rule_id == rule.id,
            StaffUser.on_duty.is_(True),
            StaffUser.active.is_(True),
        )
        # Never assigned first, then the longest wait; the id breaks ties the same way always.
        .order_by(
            AssignmentRuleMember.last_assigned_at.is_not(None),
            AssignmentRuleMember.last_assigned_at,
            AssignmentRuleMember.id,
        )
        .limit(1)
    )
    if member is None:
        return None
    member.last_assigned_at = utcnow()
    lead.assigned_to_id = member.staff_user_id
    audit.record(
        session,
        audit.Actor.assignment_rule(rule.id),
        "lead.assigned",
        lead=lead.id,
        changes={"assigned_to": [None, member.staff_user_id]},
    )
    return member.staff_user_id


def _apply(session: DbSession, rule: AssignmentRule, spec: RuleSpec) -> None:
    if not spec.leave_to_pick and not spec.staff_ids:
        raise RuleRefused(_l("Choose at least one staff member, or leave the leads to pick."))
    wanted = [] if spec.leave_to_pick else list(dict.fromkeys(spec.staff_ids))
    found = set(session.scalars(select(StaffUser.id).where(StaffUser.id.in_(wanted))))
    if found != set(wanted):
        raise LookupError("no such staff member")
    rule.language = spec.language or None
    rule.procedure_id = spec.procedure_id
    rule.leave_to_pick = spec.leave_to_pick
    kept = {m.staff_user_id: m for m in rule.members}
    # A member who stays keeps their place in the rotation.
    rule.members = [kept.get(i) or AssignmentRuleMember(staff_user_id=i) for i in wanted]


def _changes(rule: AssignmentRule) -> dict[str, object]:
    return {
        "position": rule.position,
        "language": rule.language,
        "procedure_id": rule.procedure_id,
        "leave_to_pick": rule.leave_to_pick,
        "staff": [m.staff_user_id for m in rule.members],
    }


def create_rule(session: DbSession, spec: RuleSpec, by: StaffUser) -> AssignmentRule:
    """Added last: tried after every existing rule."""
    last = session.scalar(select(func.max(AssignmentRule.position))) or 0
    rule = AssignmentRule(position=last + 1)
    _apply(session, rule, spec)
    session.add(rule)
    session.flush()
    audit.record(
        session,
        audit.Actor.staff(by),
        "assignment_rule.created",
        assignment_rule=rule.id,
        changes=_changes(rule),
    )
    session.commit()
    return rule


def _rule(session: DbSession, rule_id: int) -> AssignmentRule:
    rule = session.get(AssignmentRule, rule_id, with_for_update=True)
    if rule is None:
        raise LookupError("no such rule")
    return rule


def update_rule(session: DbSession, rule_id: int, spec: RuleSpec, by: StaffUser) -> None:
    rule = _rule(session, rule_id)
    _apply(session, rule, spec)
    audit.record(
        session,
        audit.Actor.staff(by),
        "assignment_rule.updated",
        assignment_rule=rule.id,
        changes=_changes(rule),
    )
    session.commit()


def move_rule(session: DbSession, rule_id: int, up: bool, by: StaffUser) -> None:
    """Swap with the neighbour above or below; the first rule cannot go higher."""
    rules = all_rules(session)
    index = next((i for i, r in enumerate(rules) if r.id == rule_id), None)
    if index is None:
        raise LookupError("no such rule")
    other = index - 1 if up else index + 1
    if not 0 <= other < len(rules):
        return
    rules[index], rules[other] = rules[other], rules[index]
    for position, rule in enumerate(rules, start=1):
        rule.position = position
    audit.record(
        session,
        audit.Actor.staff(by),
        "assignment_rule.moved",
        assignment_rule=rule_id,
        changes={"order": [r.id for r in rules]},
    )
    session.commit()


def delete_rule(session: DbSession, rule_id: int, by: StaffUser) -> None:
    rule = _rule(session, rule_id)
    changes = _changes(rule)
    session.delete(rule)
    audit.record(
        session,
        audit.Actor.staff(by),
        "assignment_rule.deleted",
        assignment_rule=rule_id,
        changes=changes,
    )
    session.commit()
