"""Clinic applications in the staff console: the list by status, one clinic's review page,
the decisions (approve, reject, suspend) and its credentials."""

from __future__ import annotations

from collections.abc import Callable

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from app.extensions import db
from app.forms.common import ConfirmForm
from app.forms.staff import CredentialForm, ReasonForm
from app.models import Clinic, ClinicStatus
from app.models.base import DbSession, utcnow
from app.services import audit
from app.services.answers.stats import recent_answer_stats
from app.services.clinics import credentials, listings, review
from app.web.actions import run
from app.web.sign_in import current_staff

bp = Blueprint("clinics", __name__, url_prefix="/clinics")


@bp.get("")
def clinics() -> ResponseReturnValue:
    status = request.args.get("status", ClinicStatus.PENDING.value)
    if status not in {s.value for s in ClinicStatus}:
        abort(404)
    rows = review.clinics_in_status(db.session, ClinicStatus(status))
    return render_template(
        "staff/clinics.html",
        clinics=rows,
        stats=recent_answer_stats(db.session, [c.id for c in rows], current_app.config, utcnow()),
        status=status,
        counts={s.value: n for s, n in review.count_by_status(db.session).items()},
        today=utcnow().date(),
    )


@bp.get("/<int:clinic_id>")
def clinic_detail(clinic_id: int) -> ResponseReturnValue:
    clinic = listings.clinic_with_offerings(db.session, clinic_id)
    if clinic is None:
        abort(404)
    obstacle = review.approval_obstacle(db.session, clinic)
    return render_template(
        "staff/clinic_detail.html",
        clinic=clinic,
        approval_refused=_approval_refused_message(obstacle) if obstacle else None,
        stats=recent_answer_stats(db.session, [clinic.id], current_app.config, utcnow())[clinic.id],
        events=audit.events_for(db.session, "clinic", clinic.id, newest_first=True),
        today=utcnow().date(),
        approve_form=ConfirmForm(),
        reason_form=ReasonForm(),
        credential_form=CredentialForm(),
    )


@bp.post("/<int:clinic_id>/approve")
def approve(clinic_id: int) -> ResponseReturnValue:
    if ConfirmForm().validate_on_submit():
        _decide(
            lambda: review.approve(db.session, clinic_id, current_staff().id),
            _("The clinic is approved and listed."),
        )
    return redirect(url_for("staff.clinics.clinic_detail", clinic_id=clinic_id))


@bp.post("/<int:clinic_id>/reject")
def reject(clinic_id: int) -> ResponseReturnValue:
    return _with_reason(clinic_id, review.reject, _("The application is rejected."))


@bp.post("/<int:clinic_id>/suspend")
def suspend(clinic_id: int) -> ResponseReturnValue:
    return _with_reason(clinic_id, review.suspend, _("The clinic is suspended."))


def _with_reason(
    clinic_id: int, decision: Callable[[DbSession, int, int, str], Clinic], done_message: str
) -> ResponseReturnValue:
    form = ReasonForm()
    if form.validate_on_submit():
        _decide(
            lambda: decision(db.session, clinic_id, current_staff().id, form.reason.data.strip()),
            done_message,
        )
    else:
        flash(_("Please give a reason: the clinic will read it."), "error")
    return redirect(url_for("staff.clinics.clinic_detail", clinic_id=clinic_id))


def _approval_refused_message(refusal: review.ApprovalRefused) -> str:
    if isinstance(refusal, review.EmailNotVerified):
        return _(
            "The clinic has not confirmed its email address yet, so it cannot be approved. "
            "It can do so with the link in the email we sent when it applied."
        )
    return _(
        "Another approved or suspended clinic has the same business registration number, "
        "so this one cannot be approved."
    )


def _decide(action: Callable[[], Clinic], done_message: str) -> None:
    run(
        action,
        lambda _clinic: done_message,
        {
            review.InvalidTransition: lambda _exc: _(
                "That decision does not apply to the clinic's current status."
            ),
            review.ApprovalRefused: _approval_refused_message,
        },
    )


@bp.post("/<int:clinic_id>/credentials")
def set_credential(clinic_id: int) -> ResponseReturnValue:
    form = CredentialForm()
    if form.validate_on_submit():
        try:
            credentials.set_credential(
                db.session,
                clinic_id,
                current_staff().id,
                form.code.data,
                form.reference.data or None,
                form.expires_on.data,
            )
        except LookupError:
            abort(404)
        flash(_("The credential is saved."))
    else:
        flash(_("Please check the credential's details: the date must be a real date."), "error")
    return redirect(url_for("staff.clinics.clinic_detail", clinic_id=clinic_id))
