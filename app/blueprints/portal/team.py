"""A clinic's colleagues in the portal: who can sign in, inviting another, removing one."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from app.extensions import db
from app.forms.common import ConfirmForm
from app.forms.portal import EmailForm, MyLanguageForm
from app.services.accounts import clinic_users
from app.web.actions import run_confirmed
from app.web.sign_in import current_clinic_user

bp = Blueprint("team", __name__, url_prefix="/team")


def _team_page(
    form: EmailForm, language_form: MyLanguageForm | None = None, status: int = 200
) -> ResponseReturnValue:
    me = current_clinic_user()
    return render_template(
        "portal/team.html",
        users=clinic_users.active_colleagues(db.session, me.clinic_id),
        form=form,
        language_form=language_form or MyLanguageForm(data={"language": me.language or ""}),
        confirm=ConfirmForm(),
        me=me,
    ), status


@bp.get("")
def team() -> ResponseReturnValue:
    return _team_page(EmailForm())


@bp.post("")
def invite() -> ResponseReturnValue:
    form = EmailForm()
    if form.validate_on_submit():
        try:
            clinic_users.invite_colleague(db.session, current_clinic_user().id, form.email.data)
        except clinic_users.AccountRefused:
            form.email.errors = [_("That address already has a portal account.")]
        else:
            flash(_("We sent %(email)s a link to set a password.", email=form.email.data))
            return redirect(url_for("portal.team.team"))
    return _team_page(form, status=422)


@bp.post("/language")
def language() -> ResponseReturnValue:
    form = MyLanguageForm()
    if not form.validate_on_submit():
        return _team_page(EmailForm(), form, status=422)
    clinic_users.set_language(db.session, current_clinic_user().id, form.language.data or None)
    return redirect(url_for("portal.team.team"))


@bp.post("/<int:user_id>/remove")
def remove(user_id: int) -> ResponseReturnValue:
    run_confirmed(
        lambda: clinic_users.deactivate_colleague(db.session, current_clinic_user().id, user_id),
        lambda _user: _("The colleague can no longer sign in."),
        {clinic_users.AccountRefused: lambda _exc: _("You cannot remove your own account.")},
    )
    return redirect(url_for("portal.team.team"))
