"""Assignment rules: which staff member a new lead goes to when the worker processes it."""

from __future__ import annotations

from itertools import count

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.models import AssignmentRule, AuditEvent, StaffRole, StaffUser
from app.services.leads.assignment_rules import RuleSpec, create_rule, move_rule
from tests.support.factories import make_staff, procedure, routed_lead
from tests.support.forms import submit
from tests.unit.test_staff_users import make_admin, sign_in

_patients = count(1)


def on_duty(email: str) -> StaffUser:
    user = make_staff(email)
    user.on_duty = True
    db.session.commit()
    return user


def rule(
    *staff: StaffUser,
    language: str | None = None,
    slug: str | None = None,
    leave_to_pick: bool = False,
) -> AssignmentRule:
    return create_rule(
        db.session,
        RuleSpec(
            language=language,
            procedure_id=procedure(slug).id if slug else None,
            staff_ids=[s.id for s in staff],
            leave_to_pick=leave_to_pick,
        ),
        _admin(),
    )


def _admin() -> StaffUser:
    found = db.session.scalar(select(StaffUser).where(StaffUser.role == StaffRole.ADMIN))
    return found or make_admin()


def assignee_of(**lead: object) -> str | None:
    """A new lead from a new patient (never a duplicate of an earlier one), processed."""
    patient = next(_patients)
    processed = routed_lead(
        email=f"patient{patient}@example.com", phone=f"+7701555{patient:04}", **lead
    )
    return processed.assigned_to_id and db.session.get(StaffUser, processed.assigned_to_id).email


def test_a_language_rule_takes_only_leads_in_its_language(app: Flask):
    rule(on_duty("russian@careroute.test"), language="ru")
    assert assignee_of(language="ru") == "russian@careroute.test"
    assert assignee_of(language="en") is None


def test_a_procedure_rule_takes_only_leads_for_its_procedure(app: Flask):
    rule(on_duty("prp@careroute.test"), slug="prp-knee")
    assert assignee_of(procedure=procedure("prp-knee")) == "prp@careroute.test"
    assert assignee_of() is None


def test_a_rule_with_language_and_procedure_needs_both(app: Flask):
    rule(on_duty("both@careroute.test"), language="ru", slug="prp-knee")
    assert assignee_of(language="ru") is None
    assert assignee_of(language="en", procedure=procedure("prp-knee")) is None
    assert assignee_of(language="ru", procedure=procedure("prp-knee")) == "both@careroute.test"


def test_the_pool_takes_turns_the_longest_waiting_first(app: Flask):
    first, second = on_duty("a@careroute.test"), on_duty("b@careroute.test")
    rule(first, second)
    got = [assignee_of() for n in range(4)]
    assert got == [first.email, second.email, first.email, second.email]


def test_staff_off_duty_are_skipped(app: Flask):
    working, away = on_duty("working@careroute.test"), make_staff("away@careroute.test")
    rule(away, working)
    assert [assignee_of() for n in range(2)] == [working.email] * 2


def test_with_nobody_on_duty_the_lead_stays_unassigned(app: Flask):
    rule(make_staff("away@careroute.test"))
    assert assignee_of() is None


def test_a_leave_to_pick_rule_stops_later_rules(app: Flask):
    rule(language="ru", leave_to_pick=True)
    rule(on_duty("anyone@careroute.test"))
    assert assignee_of(language="ru") is None
    assert assignee_of(language="en") == "anyone@careroute.test"


def test_the_first_matching_rule_in_order_decides(app: Flask):
    rule(on_duty("general@careroute.test"))
    russian = rule(on_duty("russian@careroute.test"), language="ru")
    assert assignee_of(language="ru") == "general@careroute.test"

    move_rule(db.session, russian.id, True, _admin())
    assert assignee_of(language="ru") == "russian@careroute.test"


def test_no_rule_leaves_the_lead_unassigned(app: Flask):
    on_duty("idle@careroute.test")
    assert assignee_of() is None


def test_the_rule_is_named_in_the_leads_history(app: Flask):
    made = rule(on_duty("russian@careroute.test"))
    lead = routed_lead()
    event = db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "lead.assigned", AuditEvent.object_id == lead.id
        )
    )
    assert (event.actor_type, event.actor_id) == ("assignment_rule", made.id)


def test_a_triager_cannot_see_or_edit_the_rules(staff_client: FlaskClient):
    assert staff_client.get("/staff/assignment-rules").status_code == 403
    assert staff_client.post("/staff/assignment-rules", data={}).status_code in (400, 403)


def _admin_client(app: Flask) -> FlaskClient:
    client = app.test_client()
    sign_in(client, _admin().email)
    return client


def test_an_admin_adds_a_rule_that_then_applies(app: Flask):
    member = on_duty("russian@careroute.test")
    client = _admin_client(app)
    response = submit(
        client,
        "/staff/assignment-rules",
        {"language": "ru", "procedure": "", "handling": "round_robin", "staff": [member.id]},
    )
    assert response.status_code == 302
    assert "russian@careroute.test" in client.get("/staff/assignment-rules").get_data(as_text=True)
    assert assignee_of(language="ru") == member.email


def test_a_round_robin_rule_without_staff_is_refused_next_to_the_field(app: Flask):
    client = _admin_client(app)
    response = submit(
        client,
        "/staff/assignment-rules",
        {"language": "ru", "procedure": "", "handling": "round_robin"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="staff-error"' in html and "Choose at least one staff member" in html
    assert '<option selected value="ru">' in html
    assert db.session.scalar(select(AssignmentRule)) is None


def test_an_admin_edits_reorders_and_deletes_rules(app: Flask):
    first_member, second_member = on_duty("a@careroute.test"), on_duty("b@careroute.test")
    first, second = rule(first_member), rule(second_member, language="ru")
    first_id = first.id
    client = _admin_client(app)

    page = f"/staff/assignment-rules/{first.id}"
    response = submit(client, page, {"language": "", "procedure": "", "handling": "leave"})
    assert response.status_code == 302
    submit(client, "/staff/assignment-rules", {}, action=f"/staff/assignment-rules/{second.id}/up")
    db.session.expire_all()
    assert db.session.get(AssignmentRule, first.id).leave_to_pick
    assert [r.id for r in db.session.scalars(select(AssignmentRule).order_by("position"))] == [
        second.id,
        first.id,
    ]

    submit(
        client, "/staff/assignment-rules", {}, action=f"/staff/assignment-rules/{second.id}/delete"
    )
    assert db.session.scalars(select(AssignmentRule.id)).all() == [first_id]
    assert assignee_of(language="ru") is None


def test_staff_switch_their_own_duty_from_the_header(staff_client: FlaskClient, staff_user):
    assert "Go on duty" in staff_client.get("/staff/leads").get_data(as_text=True)
    submit(staff_client, "/staff/leads", {"on_duty": "1"}, action="/staff/duty")
    db.session.expire_all()
    assert db.session.get(StaffUser, staff_user.id).on_duty
    assert "Go off duty" in staff_client.get("/staff/leads").get_data(as_text=True)


def test_admins_see_who_is_on_duty_on_the_accounts_page(app: Flask):
    on_duty("working@careroute.test")
    html = _admin_client(app).get("/staff/users").text
    assert "<td>working@careroute.test</td><td>triager</td><td>active, on duty</td>" in html
