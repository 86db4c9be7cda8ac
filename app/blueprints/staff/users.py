"""Staff accounts, managed by admins: create, deactivate, reset a password."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from app.extensions import db
from app.forms.common import ConfirmForm
from app.forms.staff import NewStaffForm, PasswordResetForm
from app.models import StaffRole, StaffUser
from app.services.accounts import staff
from app.web.sign_in import current_staff

bp = Blueprint("users", __name__, url_prefix="/users")


@bp.before_request
def require_admin() -> None:
    """Runs after the console's own check (a parent's guard runs first), so someone is
    signed in; only admins manage accounts."""
    if current_staff().role is not StaffRole.ADMIN:
        abort(403)


def _page(form: NewStaffForm, status: int = 200) -> ResponseReturnValue:
    return render_template(
        "staff/users.html",
        users=staff.all_staff(db.session),
        form=form,
        confirm=ConfirmForm(),
        reset=PasswordResetForm(),
    ), status


@bp.get("")
def users() -> ResponseReturnValue:
    return _page(NewStaffForm())


@bp.post("")
def create() -> ResponseReturnValue:
    form = NewStaffForm()
    if form.validate_on_submit():
        try:
            staff.create_staff(
                db.session,
                form.email.data,
                StaffRole(form.role.data),
                form.password.data,
                by=current_staff(),
            )
        except staff.StaffEmailTaken:
            form.email.errors = [_("An account with this email exists already.")]
        else:
            flash(_("Account created."))
            return redirect(url_for("staff.users.users"))
    return _page(form, 422)


@bp.post("/<int:user_id>/active")
def toggle_active(user_id: int) -> ResponseReturnValue:
    if ConfirmForm().validate_on_submit():
        user = db.session.get(StaffUser, user_id)
        if user is None:
            abort(404)
        if user.id == current_staff().id:
            flash(_("You cannot deactivate your own account."), "error")
        else:
            staff.set_active(db.session, user.id, current_staff(), not user.active)
            flash(_("Account updated."))
    return redirect(url_for("staff.users.users"))


@bp.post("/<int:user_id>/password")
def reset_password(user_id: int) -> ResponseReturnValue:
    form = PasswordResetForm()
    if form.validate_on_submit():
        try:
            staff.reset_password(db.session, user_id, current_staff(), form.password.data)
        except LookupError:
            abort(404)
        flash(_("Password reset; the account's sessions have ended."))
    else:
        flash(_("Please use at least 12 characters."), "error")
    return redirect(url_for("staff.users.users"))
