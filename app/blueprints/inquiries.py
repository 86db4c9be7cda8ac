"""The patient inquiry form, its thank-you page, consent withdrawal and the patient's rights
over their data (asking, and downloading the copy)."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue

from app.extensions import db, limiter
from app.forms.common import ConfirmForm
from app.forms.inquiry import InquiryForm, PrivacyRequestForm
from app.forms.privacy import EmailLinkForm
from app.models import PrivacyRequestKind
from app.models.base import utcnow
from app.services.answers.business_hours import DeadlinePolicy
from app.services.clinics import directory
from app.services.leads.intake import submit_inquiry
from app.services.leads.patient_page import send_status_links
from app.services.links import InvalidLink
from app.services.privacy import requests as privacy_requests
from app.services.privacy.consent import withdraw_consent
from app.services.privacy.data_copy_links import request_for_data_copy_token
from app.services.privacy.patient_links import (
    lead_for_privacy_token,
    lead_for_withdrawal_token,
)
from app.web.downloads import send_record

bp = Blueprint("inquiries", __name__)


def inquiry_limit() -> str:
    return str(current_app.config["INQUIRY_RATE_LIMIT"])


@bp.route("/inquire", methods=["GET", "POST"])
@bp.route("/clinics/<slug>/inquire", methods=["GET", "POST"])
@limiter.limit(inquiry_limit, methods=["POST"])
def inquire(slug: str | None = None) -> ResponseReturnValue:
    chosen = None
    if slug is not None:
        chosen = directory.public_clinic(db.session, slug, utcnow().date())
        # A form sent after its clinic stopped taking inquiries is answered by the form
        # (the `clinic` field refuses it), not by a 404 that loses the patient's answers.
        if chosen is None and request.method == "GET":
            abort(404)
    form = InquiryForm()
    if chosen is not None and not form.is_submitted():
        form.clinic.data = chosen.slug
    if form.validate_on_submit():
        source = request.form.get("source") or ("clinic-page" if chosen else "web")
        submitted = submit_inquiry(
            db.session, form.to_inquiry(source), form.upload(), current_app.config["UPLOAD_DIR"]
        )
        session["inquiry_reference"] = submitted.reference
        return redirect(url_for("inquiries.thanks"))
    status = 422 if form.is_submitted() else 200
    return render_template("inquiries/form.html", form=form, clinic=chosen), status


@bp.get("/inquire/thanks")
def thanks() -> ResponseReturnValue:
    return render_template(
        "inquiries/thanks.html",
        reference=session.get("inquiry_reference"),
        answer_days=DeadlinePolicy.from_config(current_app.config).answer_working_days(),
    )


@bp.route("/inquire/status", methods=["GET", "POST"])
@limiter.limit(inquiry_limit, methods=["POST"])
def status_links() -> ResponseReturnValue:
    """Fresh links by address; the answer is the same whether or not we know it."""
    form = EmailLinkForm()
    if form.validate_on_submit():
        send_status_links(db.session, form.email.data)
        return render_template("inquiries/status_links_sent.html")
    status = 422 if form.is_submitted() else 200
    return render_template("inquiries/status_links.html", form=form), status


@bp.route("/inquire/withdraw/<token>", methods=["GET", "POST"])
def withdraw(token: str) -> ResponseReturnValue:
    """GET asks; only the POST withdraws (a mail scanner following the link changes nothing)."""
    try:
        lead = lead_for_withdrawal_token(db.session, token)
    except InvalidLink as exc:
        return render_template("link_invalid.html", link="withdraw", expired=exc.expired), 400
    form = ConfirmForm()
    if form.validate_on_submit():
        withdraw_consent(db.session, lead.id)
        return render_template("inquiries/withdrawn.html", reference=lead.reference)
    if lead.consent_withdrawn_at is not None:
        return render_template("inquiries/withdrawn.html", reference=lead.reference)
    return render_template("inquiries/withdraw.html", form=form, reference=lead.reference)


@bp.route("/inquire/privacy/<token>", methods=["GET", "POST"])
def privacy(token: str) -> ResponseReturnValue:
    """The patient's rights over their data; as with withdrawal, only the POST acts."""
    try:
        lead = lead_for_privacy_token(
            db.session, token, current_app.config["PRIVACY_LINK_MAX_AGE_SECONDS"]
        )
    except InvalidLink as exc:
        return render_template("link_invalid.html", link="privacy", expired=exc.expired), 400
    form = PrivacyRequestForm()
    if form.validate_on_submit():
        kind = PrivacyRequestKind(form.kind.data)
        privacy_requests.open_request(
            db.session, lead.id, kind, current_app.config["STAFF_NOTIFY_EMAIL"]
        )
        return render_template("inquiries/privacy_received.html", kind=kind.value)
    status = 422 if form.is_submitted() else 200
    return render_template("inquiries/privacy.html", form=form, reference=lead.reference), status


def _copy_link_refused(expired: bool) -> ResponseReturnValue:
    """Never a bare error: the page says what happened and offers a fresh link."""
    form = EmailLinkForm(formdata=None)
    return render_template("link_invalid.html", link="data_copy", expired=expired, form=form), 400


@bp.get("/inquire/my-data/<token>")
def data_copy(token: str) -> ResponseReturnValue:
    """What the emailed link opens: what the copy holds, and the button that downloads it."""
    try:
        request_for_data_copy_token(
            db.session, token, current_app.config["EMAIL_LINK_MAX_AGE_SECONDS"]
        )
    except InvalidLink as exc:
        return _copy_link_refused(exc.expired)
    return render_template("inquiries/data_copy.html", token=token)


@bp.get("/inquire/my-data/<token>/download")
def data_copy_download(token: str) -> ResponseReturnValue:
    """The copy, made from the database now; kept out of every cache."""
    try:
        copy_request = request_for_data_copy_token(
            db.session, token, current_app.config["EMAIL_LINK_MAX_AGE_SECONDS"]
        )
    except InvalidLink as exc:
        return _copy_link_refused(exc.expired)
    document = privacy_requests.patient_copy(
        db.session, copy_request, current_app.config["UPLOAD_DIR"]
    )
    return send_record(document, "careroute-my-information.json")


@bp.route("/inquire/my-data", methods=["GET", "POST"])
@limiter.limit(inquiry_limit, methods=["POST"])
def data_copy_again() -> ResponseReturnValue:
    """A fresh link by address; the answer is the same whether or not we know it."""
    form = EmailLinkForm()
    if form.validate_on_submit():
        privacy_requests.send_copy_again(db.session, form.email.data)
        return render_template("inquiries/data_copy_again_sent.html")
    status = 422 if form.is_submitted() else 200
    return render_template("inquiries/data_copy_again.html", form=form), status
