"""A clinic user's password: set from an emailed link (first time or reset), or a new link
asked for by address. Both pages are open: whoever uses them is not signed in."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from app.extensions import db, limiter
from app.forms.portal import EmailForm, SetPasswordForm
from app.services.accounts import clinic_users
from app.services.accounts.password_links import user_for_password_token
from app.services.links import InvalidLink
from app.web.sign_in import login_limit

bp = Blueprint("passwords", __name__, url_prefix="/password")


def _link_refused(exc: InvalidLink) -> ResponseReturnValue:
    return render_template(
        "link_invalid.html",
        link="password",
        layout="portal/base.html",
        expired=exc.expired,
        used=exc.used,
    ), 410


@bp.route("/<token>", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
def set_password(token: str) -> ResponseReturnValue:
    max_age = current_app.config["PASSWORD_LINK_MAX_AGE_SECONDS"]
    try:
        user = user_for_password_token(db.session, token, max_age)
    except InvalidLink as exc:
        return _link_refused(exc)
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            clinic_users.set_password(db.session, token, form.password.data, max_age)
        except InvalidLink as exc:
            return _link_refused(exc)
        flash(_("Your password is set. Please sign in."))
        return redirect(url_for("portal.sign_in.login"))
    status = 422 if form.is_submitted() else 200
    return render_template("portal/set_password.html", form=form, user=user), status


@bp.route("", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
def forgot_password() -> ResponseReturnValue:
    form = EmailForm()
    if form.validate_on_submit():
        clinic_users.request_password_link(db.session, form.email.data)
        return render_template("portal/password_link_sent.html", email=form.email.data)
    status = 422 if form.is_submitted() else 200
    return render_template("portal/forgot_password.html", form=form), status
