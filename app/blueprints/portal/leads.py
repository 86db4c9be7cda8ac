"""A clinic's inquiries in the portal: the list, one lead, and the clinic's answer to it
(contacted, quoted or declined), and the patient's file.

Every lead page goes through `answering.open_assignment`: a lead that was never routed
to the signed-in user's clinic (or was withdrawn or moved on) is a 404, the same as a lead
that does not exist.
"""

from __future__ import annotations

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
from flask_wtf import FlaskForm

from app.extensions import db
from app.forms.common import ConfirmForm
from app.forms.messages import MessageForm
from app.forms.portal import BookingForm, DeclineForm, QuoteForm
from app.forms.uploads import VisaLetterForm
from app.models import ClinicResponse
from app.models.base import utcnow
from app.services.answers import answering
from app.services.answers.business_hours import DeadlinePolicy
from app.services.answers.lead_links import assignment_for_lead_link
from app.services.answers.stats import recent_answer_stats
from app.services.conversations import threads
from app.services.leads import choice, documents
from app.services.links import InvalidLink
from app.web.actions import run_form
from app.web.downloads import send_attachment
from app.web.sign_in import current_clinic_user

bp = Blueprint("leads", __name__)

PER_PAGE = 50


def _upload_dir() -> str:
    return str(current_app.config["UPLOAD_DIR"])


def _policy() -> DeadlinePolicy:
    return DeadlinePolicy.from_config(current_app.config)


@bp.get("/")
def leads() -> ResponseReturnValue:
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    clinic_id = current_clinic_user().clinic_id
    rows = answering.inbox(db.session, clinic_id, page, PER_PAGE)
    stats = recent_answer_stats(db.session, [clinic_id], current_app.config, utcnow())[clinic_id]
    return render_template(
        "portal/leads.html",
        assignments=rows[:PER_PAGE],
        next_page=page + 1 if len(rows) > PER_PAGE else None,
        page=page,
        policy=_policy(),
        stats=stats,
        clinic=current_clinic_user().clinic,
    )


def _lead_page(lead_id: int, status: int = 200, **sent: FlaskForm) -> ResponseReturnValue:
    """The lead with every form on it; `sent` holds a form that came back with errors."""
    try:
        assignment = answering.record_view(db.session, lead_id, current_clinic_user().id)
    except LookupError:
        return _gone_or_missing(lead_id)
    forms = {
        "quote_form": lambda: QuoteForm(prefix="quote", obj=assignment.quote),
        "decline_form": lambda: DeclineForm(prefix="decline"),
        "message_form": lambda: MessageForm(prefix="message"),
        "booking_form": lambda: BookingForm(prefix="booking"),
        "visa_form": lambda: VisaLetterForm(prefix="visa"),
    }
    return render_template(
        "portal/lead.html",
        assignment=assignment,
        lead=assignment.lead,
        visa_letter=documents.visa_letter_of(assignment.lead),
        policy=_policy(),
        contacted_form=ConfirmForm(),
        **{name: sent.get(name) or make() for name, make in forms.items()},
    ), status


def _gone_or_missing(lead_id: int) -> ResponseReturnValue:
    """A clinic following its own email link to a lead that moved on learns why; anyone
    else (no link, another clinic's link) gets the plain 404."""
    try:
        assignment = assignment_for_lead_link(
            db.session, request.args.get("t", ""), lead_id, current_clinic_user().clinic_id
        )
    except (InvalidLink, LookupError):
        abort(404)
    return render_template("portal/lead_gone.html", assignment=assignment, policy=_policy()), 410


@bp.get("/leads/<int:lead_id>")
def lead(lead_id: int) -> ResponseReturnValue:
    return _lead_page(lead_id)


def _answer(
    lead_id: int, response: ClinicResponse, done: str, **details: object
) -> ResponseReturnValue:
    try:
        answering.answer(
            db.session,
            lead_id,
            current_clinic_user().id,
            response,
            max_clinics=current_app.config["ROUTING_MAX_CLINICS"],
            **details,  # type: ignore[arg-type]
        )
    except LookupError:
        abort(404)
    except answering.AnswerRefused:
        abort(400)  # the forms ask for what an answer needs before it gets here
    flash(done)
    if response is ClinicResponse.DECLINED:
        return redirect(url_for("portal.leads.leads"))  # the lead is no longer the clinic's to see
    return redirect(url_for("portal.leads.lead", lead_id=lead_id))


@bp.post("/leads/<int:lead_id>/contacted")
def contacted(lead_id: int) -> ResponseReturnValue:
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    return _answer(
        lead_id, ClinicResponse.CONTACTED, _("Thank you. We told the patient you will be in touch.")
    )


@bp.post("/leads/<int:lead_id>/quote")
def quote(lead_id: int) -> ResponseReturnValue:
    form = QuoteForm(prefix="quote")
    if not form.validate_on_submit():
        return _lead_page(lead_id, status=422, quote_form=form)
    return _answer(lead_id, ClinicResponse.QUOTED, _("Your quote is saved."), quote=form.details())


@bp.post("/leads/<int:lead_id>/decline")
def decline(lead_id: int) -> ResponseReturnValue:
    form = DeclineForm(prefix="decline")
    if not form.validate_on_submit():
        return _lead_page(lead_id, status=422, decline_form=form)
    return _answer(
        lead_id,
        ClinicResponse.DECLINED,
        _("Thank you for telling us. The inquiry goes to another clinic."),
        reason=form.reason.data,
    )


@bp.post("/leads/<int:lead_id>/messages")
def message(lead_id: int) -> ResponseReturnValue:
    """The patient is emailed a notice with a link to their page, never the text."""
    form = MessageForm(prefix="message")
    return run_form(
        form,
        form.body,
        lambda: threads.from_clinic(db.session, lead_id, current_clinic_user().id, form.body.data),
        threads.MessageRefused,
        _("Your message is sent. The patient reads it on their inquiry's page."),
        url_for("portal.leads.lead", lead_id=lead_id, _anchor="messages"),
        lambda sent: _lead_page(lead_id, status=422, message_form=sent),
    )


@bp.post("/leads/<int:lead_id>/booking")
def booking(lead_id: int) -> ResponseReturnValue:
    """The chosen clinic confirms the date: the lead is booked, the other clinics let go."""
    form = BookingForm(prefix="booking")
    return run_form(
        form,
        form.treatment_date,
        lambda: choice.confirm_booking(
            db.session, lead_id, current_clinic_user().id, form.treatment_date.data
        ),
        choice.ChoiceRefused,
        _("The treatment is booked. We told the patient."),
        url_for("portal.leads.lead", lead_id=lead_id),
        lambda sent: _lead_page(lead_id, status=422, booking_form=sent),
    )


@bp.post("/leads/<int:lead_id>/visa-letter")
def visa_letter(lead_id: int) -> ResponseReturnValue:
    form = VisaLetterForm(prefix="visa")
    return run_form(
        form,
        form.letter,
        lambda: documents.upload_visa_letter(
            db.session, lead_id, current_clinic_user().id, form.upload, _upload_dir()
        ),
        documents.DocumentRefused,
        _("The letter is uploaded. The patient downloads it from their inquiry's page."),
        url_for("portal.leads.lead", lead_id=lead_id),
        lambda sent: _lead_page(lead_id, status=422, visa_form=sent),
    )


@bp.get("/leads/<int:lead_id>/attachments/<int:attachment_id>")
def attachment(lead_id: int, attachment_id: int) -> ResponseReturnValue:
    try:
        stored = answering.record_download(
            db.session, lead_id, attachment_id, current_clinic_user().id
        )
    except LookupError:
        abort(404)
    return send_attachment(_upload_dir(), stored, stored.lead.reference)
