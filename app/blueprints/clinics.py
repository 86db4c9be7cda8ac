"""Public clinic pages: the directory, a clinic's page, the application form."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from app.extensions import db
from app.forms.clinics import ClinicApplicationForm
from app.models.base import utcnow
from app.reference_data import CREDENTIAL_LABELS
from app.services.accounts.password_links import password_token, primary_user
from app.services.clinics import onboarding
from app.services.clinics.directory import (
    current_accreditations,
    public_clinic,
    public_clinics,
)
from app.services.clinics.verification_links import verification_for_token
from app.services.links import InvalidLink

bp = Blueprint("clinics", __name__, url_prefix="/clinics")


@bp.app_context_processor
def reference_labels() -> dict[str, object]:
    return {"credential_labels": CREDENTIAL_LABELS}


@bp.get("")
def directory() -> ResponseReturnValue:
    return render_template(
        "clinics/directory.html",
        clinics=public_clinics(db.session, utcnow().date()),
    )


@bp.route("/join", methods=["GET", "POST"])
def join() -> ResponseReturnValue:
    form = ClinicApplicationForm()
    if form.validate_on_submit():
        try:
            onboarding.submit_application(
                db.session, form.to_application(), current_app.config["STAFF_NOTIFY_EMAIL"]
            )
        except onboarding.ClinicEmailTaken:
            # Another application with this address committed between the check and ours.
            form.email.errors = [form.EMAIL_TAKEN]
        except onboarding.ClinicRegistrationTaken:
            form.registration_number.errors = [form.REGISTRATION_TAKEN]
        else:
            return redirect(url_for("clinics.applied"))
    status = 422 if form.is_submitted() else 200
    return render_template("clinics/join.html", form=form), status


@bp.get("/join/thanks")
def applied() -> ResponseReturnValue:
    return render_template("clinics/applied.html")


@bp.get("/verify/<token>")
def verify_email(token: str) -> ResponseReturnValue:
    try:
        clinic_id, email = verification_for_token(token)
    except InvalidLink as exc:
        return render_template("link_invalid.html", link="clinic_email", expired=exc.expired), 400
    clinic = onboarding.verify_email(db.session, clinic_id, email)
    if clinic is None:
        return render_template("link_invalid.html", link="clinic_email", expired=False), 400
    # The link proved the address: its portal account may choose a password next.
    user = primary_user(db.session, clinic.id, clinic.email)
    password_url = (
        url_for("portal.passwords.set_password", token=password_token(user))
        if user is not None and user.password_hash is None
        else None
    )
    return render_template("clinics/verified.html", clinic=clinic, password_url=password_url)


@bp.get("/<slug>")
def detail(slug: str) -> ResponseReturnValue:
    today = utcnow().date()
    # An unlisted clinic (pending, suspended, rejected, licence or insurance lapsed) has no
    # public page, as it has no place in the directory and takes no inquiries.
    clinic = public_clinic(db.session, slug, today)
    if clinic is None:
        abort(404)
    return render_template(
        "clinics/detail.html",
        clinic=clinic,
        accreditations=current_accreditations(clinic, today),
    )
