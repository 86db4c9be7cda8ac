"""Assignment rules, edited by admins: which staff member a new lead goes to."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from app.blueprints.staff.users import require_admin
from app.extensions import db
from app.forms.common import ConfirmForm
from app.forms.staff import AssignmentRuleForm
from app.models import AssignmentRule
from app.services.accounts.staff import active_staff
from app.services.clinics.catalog import procedures_by_name
from app.services.leads import assignment_rules as rules
from app.web.actions import explained, run_confirmed, run_form
from app.web.sign_in import current_staff

bp = Blueprint("assignment_rules", __name__, url_prefix="/assignment-rules")
bp.before_request(require_admin)


def _form(**kwargs: object) -> AssignmentRuleForm:
    return AssignmentRuleForm(procedures_by_name(db.session), active_staff(db.session), **kwargs)


def _spec(form: AssignmentRuleForm) -> rules.RuleSpec:
    leave = form.handling.data == "leave"
    return rules.RuleSpec(
        language=form.language.data or None,
        procedure_id=int(form.procedure.data) if form.procedure.data else None,
        staff_ids=[] if leave else form.staff.data or [],
        leave_to_pick=leave,
    )


def _list_page(form: FlaskForm, status: int = 422) -> ResponseReturnValue:
    return render_template(
        "staff/assignment_rules.html",
        rules=rules.all_rules(db.session),
        form=form,
        confirm=ConfirmForm(),
    ), status


def _back() -> str:
    return url_for("staff.assignment_rules.rules_page")


@bp.get("")
def rules_page() -> ResponseReturnValue:
    return _list_page(_form(), 200)


@bp.post("")
def create() -> ResponseReturnValue:
    form = _form()
    return run_form(
        form,
        form.staff,
        lambda: rules.create_rule(db.session, _spec(form), current_staff()),
        rules.RuleRefused,
        _("Rule added. It is tried after the rules above it."),
        _back(),
        _list_page,
    )


def _rule(rule_id: int) -> AssignmentRule:
    rule = db.session.get(AssignmentRule, rule_id)
    if rule is None:
        abort(404)
    return rule


def _edit_page(rule: AssignmentRule) -> Callable[..., ResponseReturnValue]:
    def page(form: FlaskForm, status: int = 422) -> ResponseReturnValue:
        return render_template("staff/assignment_rule.html", rule=rule, form=form), status

    return page


@bp.get("/<int:rule_id>")
def edit(rule_id: int) -> ResponseReturnValue:
    rule = _rule(rule_id)
    form = _form(
        formdata=None,
        data={
            "language": rule.language or "",
            "procedure": str(rule.procedure_id or ""),
            "handling": "leave" if rule.leave_to_pick else "round_robin",
            "staff": [m.staff_user_id for m in rule.members],
        },
    )
    return _edit_page(rule)(form, 200)


@bp.post("/<int:rule_id>")
def update(rule_id: int) -> ResponseReturnValue:
    rule = _rule(rule_id)
    form = _form()
    return run_form(
        form,
        form.staff,
        lambda: rules.update_rule(db.session, rule.id, _spec(form), current_staff()),
        rules.RuleRefused,
        _("Rule saved."),
        _back(),
        _edit_page(rule),
    )


@bp.post("/<int:rule_id>/up")
def move_up(rule_id: int) -> ResponseReturnValue:
    return _confirmed(lambda: rules.move_rule(db.session, rule_id, True, current_staff()))


@bp.post("/<int:rule_id>/down")
def move_down(rule_id: int) -> ResponseReturnValue:
    return _confirmed(lambda: rules.move_rule(db.session, rule_id, False, current_staff()))


@bp.post("/<int:rule_id>/delete")
def delete(rule_id: int) -> ResponseReturnValue:
    return _confirmed(
        lambda: rules.delete_rule(db.session, rule_id, current_staff()), _("Rule deleted.")
    )


def _confirmed(do: Callable[[], object], done: str | None = None) -> ResponseReturnValue:
    run_confirmed(do, lambda _none: done or _("Order saved."), explained(rules.RuleRefused))
    return redirect(_back())
