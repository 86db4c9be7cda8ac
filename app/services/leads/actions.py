"""What staff do to leads; every change is an audit event with the staff member."""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.models import Assignment, Clinic, Lead, LeadNote, LeadStatus, StaffUser
from app.models.base import DbSession, utcnow
from app.services import audit
from app.services.leads import emails, lifecycle, routing

# A move the life cycle refuses is refused to staff in the same words.
ActionRefused = lifecycle.TransitionRefused


def _staff(session: DbSession, staff_id: int) -> StaffUser:
    staff = session.get(StaffUser, staff_id)
    if staff is None:
        raise LookupError("no such staff member")
    return staff


def _lead(session: DbSession, lead_id: int) -> Lead:
    lead = session.get(Lead, lead_id, with_for_update=True, populate_existing=True)
    if lead is None:
        raise LookupError("no such lead")
    return lead


def _leads(session: DbSession, lead_ids: Sequence[int]) -> list[Lead]:
    """Every lead of a bulk action locked at once, in id order, as routing locks one lead
    at a time: two bulk changes, or one and the worker, never wait on each other in a
    circle."""
    leads = session.scalars(
        select(Lead)
        .where(Lead.id.in_(lead_ids))
        .order_by(Lead.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    if len(leads) != len(set(lead_ids)):
        raise LookupError("no such lead")
    return list(leads)


def record_view(session: DbSession, lead_id: int, staff_id: int) -> None:
    """Who read whose health data, and when; before the page loads the lead, so the commit
    leaves nothing loaded to expire."""
    if session.scalar(select(Lead.id).where(Lead.id == lead_id)) is None:
        raise LookupError("no such lead")
    audit.record(session, audit.Actor.staff(_staff(session, staff_id)), "lead.viewed", lead=lead_id)
    session.commit()


def change_status(
    session: DbSession,
    lead_ids: Sequence[int],
    staff_id: int,
    status: LeadStatus,
    reason: str | None = None,
) -> int:
    """All or nothing: one lead the move does not apply to refuses the whole change."""
    actor = audit.Actor.staff(_staff(session, staff_id))
    changed = _move_all(session, _leads(session, lead_ids), actor, status, reason)
    session.commit()
    return changed


def _move_all(
    session: DbSession,
    leads: Sequence[Lead],
    actor: audit.Actor,
    status: LeadStatus,
    reason: str | None,
) -> int:
    """Moves the leads (locked by the caller); a refusal rolls back everything so far."""
    if status in lifecycle.NOT_CHOSEN_BY_STAFF:
        session.rollback()
        raise ActionRefused(
            _l("a lead becomes %(status)s by being sent to clinics", status=status.value)
        )
    changed = 0
    for lead in leads:
        reference = lead.reference
        try:
            changed += lifecycle.move(session, lead, status, actor, reason=reason)
        except ActionRefused as refused:
            session.rollback()
            raise ActionRefused(_l("%(ref)s: %(why)s", ref=reference, why=refused)) from refused
    return changed


def assign_to(
    session: DbSession, lead_ids: Sequence[int], staff_id: int, assignee_id: int | None
) -> int:
    _assign(session, _leads(session, lead_ids), _staff(session, staff_id), assignee_id)
    session.commit()
    return len(set(lead_ids))


def _assign(
    session: DbSession, leads: Sequence[Lead], staff: StaffUser, assignee_id: int | None
) -> None:
    if assignee_id is not None:
        assignee = session.get(StaffUser, assignee_id)
        if assignee is None or not assignee.active:
            session.rollback()
            raise ActionRefused(_l("no such active staff member"))
    for lead in leads:
        before = lead.assigned_to_id
        lead.assigned_to_id = assignee_id
        audit.record(
            session,
            audit.Actor.staff(staff),
            "lead.assigned",
            lead=lead.id,
            changes={"assigned_to": [before, assignee_id]},
        )


def update_lead(
    session: DbSession,
    lead_id: int,
    staff_id: int,
    *,
    status: LeadStatus | None = None,
    reason: str | None = None,
    reassign: bool = False,
    assignee_id: int | None = None,
) -> Lead:
    """A new status and a new assignee in one change (a system's edit of one lead): both
    or neither, so a caller never has to undo half of it. `reassign` says whether
    `assignee_id` applies (None then leaves the lead unassigned)."""
    staff = _staff(session, staff_id)
    leads = _leads(session, [lead_id])
    if reassign:
        _assign(session, leads, staff, assignee_id)
    if status is not None:
        _move_all(session, leads, audit.Actor.staff(staff), status, reason)
    session.commit()
    return leads[0]


def add_note(session: DbSession, lead_id: int, staff_id: int, body: str) -> LeadNote:
    if not body.strip():
        raise ActionRefused(_l("an empty note"))
    staff = _staff(session, staff_id)
    lead = _lead(session, lead_id)
    note = LeadNote(lead_id=lead.id, staff_user_id=staff.id, body=body.strip())
    session.add(note)
    session.flush()
    audit.record(
        session,
        audit.Actor.staff(staff),
        "lead.note_added",
        lead=lead.id,
        changes={"note_id": note.id},
    )
    session.commit()
    return note


def reroute(session: DbSession, lead_id: int, staff_id: int, clinic_ids: Sequence[int]) -> int:
    """Add clinics by hand, each once the patient agrees to it (they are asked by email).
    Only clinics routing itself could choose (approved, credentials valid, offering the
    procedure, capacity left)."""
    staff = _staff(session, staff_id)
    lead = _lead(session, lead_id)
    if not lifecycle.can_take_clinics(lead):
        raise ActionRefused(
            _l("the lead is %(status)s and cannot go to more clinics", status=lead.status.value)
        )
    have = {a.clinic_id for a in lead.assignments}
    wanted = [i for i in dict.fromkeys(clinic_ids) if i not in have]
    now = utcnow()
    routing.lock_clinics(session, wanted)
    unfit = set(wanted) - routing.eligible(session, lead, wanted, now.date())
    if unfit:
        names = session.scalars(
            select(Clinic.name).where(Clinic.id.in_(unfit)).order_by(Clinic.name)
        )
        raise ActionRefused(
            _l("these clinics cannot take this lead: %(names)s", names=", ".join(names))
        )
    clinics = routing.count_new_assignments(session, wanted)
    added: list[int] = []
    for clinic in clinics.values():
        assignment = Assignment(
            lead=lead,
            clinic=clinic,
            rank=len(have) + len(added) + 1,
            score={"added_by_staff": staff.email},
            created_at=now,
            consent_requested_at=now,
        )
        session.add(assignment)
        session.flush()
        emails.ask_patient_to_share(session, assignment)
        added.append(clinic.id)
    if added:
        lead.no_matching_clinic = False
        actor = audit.Actor.staff(staff)
        if lead.status is LeadStatus.NEW:
            lifecycle.move(session, lead, LeadStatus.ROUTED, actor, now=now)
        audit.record(session, actor, "lead.rerouted", lead=lead.id, changes={"clinics": added})
    session.commit()
    return len(added)


def resend_confirmation(session: DbSession, lead_id: int, staff_id: int) -> None:
    """Only while the lead is live: a withdrawn or settled lead's confirmation would name
    no clinic, and an erased one has no address left."""
    staff = _staff(session, staff_id)
    lead = _lead(session, lead_id)
    if not lifecycle.can_take_clinics(lead) or lead.anonymised_at is not None:
        raise ActionRefused(_l("the lead is %(status)s", status=lead.status.value))
    emails.confirm_to_patient(session, lead, utcnow())
    audit.record(session, audit.Actor.staff(staff), "lead.confirmation_resent", lead=lead.id)
    session.commit()


def mark_not_spam(session: DbSession, lead_id: int, staff_id: int) -> None:
    """A real patient caught by the spam trap: back to new, and routed like any other lead."""
    staff = _staff(session, staff_id)
    lead = _lead(session, lead_id)
    if lead.status is not LeadStatus.SPAM:
        raise ActionRefused(_l("the lead is not marked as spam"))
    lifecycle.move(session, lead, LeadStatus.NEW, audit.Actor.staff(staff), action="lead.not_spam")
    session.commit()
