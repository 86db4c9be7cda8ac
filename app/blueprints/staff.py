"""The staff console: sign-in and clinic application review (leads come with the inquiries)."""

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
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from app.blueprints.sign_in import sign_in_page, sign_out
from app.extensions import db, limiter
from app.forms.common import ConfirmForm
from app.forms.staff import CredentialForm, ReasonForm
from app.models import AuditEvent, Clinic, ClinicStatus, Offering, StaffUser
from app.models.base import utcnow
from app.services.answers.stats import recent_answer_stats
from app.services.clinics import credentials, review

bp = Blueprint("staff", __name__, url_prefix="/staff")

PUBLIC_ENDPOINTS = {"staff.login"}


def require_staff() -> ResponseReturnValue | None:
    """Every console page needs a signed-in staff member (shared by the staff blueprints)."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if current_user.is_authenticated and current_user.is_staff:
        return None
    return redirect(url_for("staff.login", next=request.full_path.rstrip("?")))


bp.before_request(require_staff)


def current_staff() -> StaffUser:
    return current_user.staff_user  # type: ignore[no-any-return]


def login_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT"])


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
def login() -> ResponseReturnValue:
    return sign_in_page(StaffUser, "staff/base.html", _("Staff sign-in"), "staff.clinics")


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    return sign_out("staff.login")


@bp.get("/")
def home() -> ResponseReturnValue:
    return redirect(url_for("staff.clinics"))


@bp.get("/clinics")
def clinics() -> ResponseReturnValue:
    status = request.args.get("status", ClinicStatus.PENDING.value)
    if status not in {s.value for s in ClinicStatus}:
        abort(404)
    counts = dict(
        db.session.execute(select(Clinic.status, func.count()).group_by(Clinic.status)).all()
    )
    rows = db.session.scalars(
        select(Clinic)
        .where(Clinic.status == status)
        .order_by(Clinic.created_at.desc())
        .options(selectinload(Clinic.credentials), selectinload(Clinic.languages))
    ).all()
    return render_template(
        "staff/clinics.html",
        clinics=rows,
        stats=recent_answer_stats(db.session, [c.id for c in rows], current_app.config, utcnow()),
        status=status,
        counts={s.value: counts.get(s, 0) for s in ClinicStatus},
        today=utcnow().date(),
    )


@bp.get("/clinics/<int:clinic_id>")
def clinic_detail(clinic_id: int) -> ResponseReturnValue:
    clinic = db.session.get(
        Clinic,
        clinic_id,
        options=[selectinload(Clinic.offerings).selectinload(Offering.procedure)],
    )
    if clinic is None:
        abort(404)
    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.object_type == "clinic", AuditEvent.object_id == clinic.id)
        .order_by(AuditEvent.id.desc())
    ).all()
    obstacle = review.approval_obstacle(db.session, clinic)
    return render_template(
        "staff/clinic_detail.html",
        clinic=clinic,
        approval_refused=_approval_refused_message(obstacle) if obstacle else None,
        stats=recent_answer_stats(db.session, [clinic.id], current_app.config, utcnow())[clinic.id],
        events=events,
        today=utcnow().date(),
        approve_form=ConfirmForm(),
        reason_form=ReasonForm(),
        credential_form=CredentialForm(),
    )


@bp.post("/clinics/<int:clinic_id>/approve")
def approve(clinic_id: int) -> ResponseReturnValue:
    if ConfirmForm().validate_on_submit():
        _decide(
            lambda: review.approve(db.session, clinic_id, current_staff().id),
            _("The clinic is approved and listed."),
        )
    return redirect(url_for("staff.clinic_detail", clinic_id=clinic_id))


@bp.post("/clinics/<int:clinic_id>/reject")
def reject(clinic_id: int) -> ResponseReturnValue:
    return _with_reason(clinic_id, review.reject, _("The application is rejected."))


@bp.post("/clinics/<int:clinic_id>/suspend")
def suspend(clinic_id: int) -> ResponseReturnValue:
    return _with_reason(clinic_id, review.suspend, _("The clinic is suspended."))


def _with_reason(
    clinic_id: int, decision: Callable[[Session, int, int, str], Clinic], done_message: str
) -> ResponseReturnValue:
    form = ReasonForm()
    if form.validate_on_submit():
        _decide(
            lambda: decision(db.session, clinic_id, current_staff().id, form.reason.data.strip()),
            done_message,
        )
    else:
        flash(_("Please give a reason: the clinic will read it."), "error")
    return redirect(url_for("staff.clinic_detail", clinic_id=clinic_id))


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
    try:
        action()
    except LookupError:
        abort(404)
    except review.InvalidTransition:
        db.session.rollback()
        flash(_("That decision does not apply to the clinic's current status."), "error")
    except review.ApprovalRefused as refusal:
        db.session.rollback()
        flash(_approval_refused_message(refusal), "error")
    else:
        flash(done_message)


@bp.post("/clinics/<int:clinic_id>/credentials")
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
    return redirect(url_for("staff.clinic_detail", clinic_id=clinic_id))
