"""Signing in and out, and who is signed in: shared by the staff console and the clinic
portal, whose sign-in pages differ only in their layout, heading and where they lead."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from app.extensions import db
from app.forms.common import LoginForm
from app.models import ClinicUser, StaffUser
from app.services.accounts import passwords, sessions


def current_staff() -> StaffUser:
    """The staff member behind this request (the console's guard has checked there is one)."""
    return current_user.staff_user


def current_clinic_user() -> ClinicUser:
    """The clinic user behind this request (the portal's guard has checked there is one)."""
    return current_user.clinic_user


def login_limit() -> str:
    """Rate limit on every form that takes a password or sends one (Flask-Limiter reads it
    per request, so tests and operators can set LOGIN_RATE_LIMIT)."""
    return str(current_app.config["LOGIN_RATE_LIMIT"])


def sign_in_first(login_endpoint: str) -> ResponseReturnValue:
    """Send a visitor who is not signed in to the sign-in page, and back here after it."""
    return redirect(url_for(login_endpoint, next=request.full_path.rstrip("?")))


def safe_next(target: str | None, fallback: str) -> str:
    """Only a path on this site: never an absolute or scheme-relative URL."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and "\\" not in target:
            return target
    return fallback


def sign_in_page(
    model: type[passwords.Account],
    layout: str,
    heading: str,
    home_endpoint: str,
    forgot_endpoint: str | None = None,
) -> ResponseReturnValue:
    form = LoginForm()
    if form.validate_on_submit():
        account = passwords.authenticate(
            db.session, model, form.email.data, form.password.data, request.remote_addr or "unknown"
        )
        if account is not None:
            # Drop everything the anonymous session held, then start a new server-side session.
            session.clear()
            login_user(sessions.start_session(db.session, account), remember=form.remember.data)
            return redirect(safe_next(request.args.get("next"), url_for(home_endpoint)))
        form.password.errors = [_("That email and password do not match an active account.")]
    status = 401 if form.is_submitted() else 200
    forgot_url = url_for(forgot_endpoint) if forgot_endpoint else None
    return render_template(
        "sign_in.html", form=form, layout=layout, heading=heading, forgot_url=forgot_url
    ), status


def sign_out(login_endpoint: str) -> ResponseReturnValue:
    sessions.end_session(db.session, current_user.get_id())
    logout_user()
    flash(_("You are signed out."))
    return redirect(url_for(login_endpoint))
