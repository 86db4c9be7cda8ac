"""The patient's own page for one inquiry, and what they do there: write to a clinic, add
documents, go ahead with a clinic, agree to or stop sharing with one, get their visa letter.

Every URL carries the signed link from the patient's emails; there is no account. A link
that is forged, tampered with or expired opens nothing here and says how to get a fresh one.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    make_response,
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
from app.forms.privacy import EmailLinkForm
from app.forms.trip import TripAssumptionsForm
from app.forms.uploads import DocumentsForm
from app.models import Lead
from app.models.base import utcnow
from app.services.conversations import threads
from app.services.leads import choice, documents, sharing
from app.services.leads.patient_page import PatientPage, patient_page
from app.services.leads.trip_estimate import Assumptions, estimate_trip
from app.services.links import InvalidLink
from app.services.privacy.patient_links import lead_for_status_token, withdrawal_token
from app.web.actions import explained, run_confirmed, run_form
from app.web.downloads import send_attachment

bp = Blueprint("patient", __name__, url_prefix="/inquire/status/<token>")


@bp.url_value_preprocessor
def _take_token(endpoint: str | None, values: dict[str, Any] | None) -> None:
    g.status_token = (values or {}).pop("token", "")


@bp.url_defaults
def _give_token(endpoint: str, values: dict[str, Any]) -> None:
    if "token" not in values and "status_token" in g:
        values["token"] = g.status_token


@bp.before_request
def _open_lead() -> ResponseReturnValue | None:
    try:
        g.patient_lead = lead_for_status_token(
            db.session, g.status_token, current_app.config["STATUS_LINK_MAX_AGE_SECONDS"]
        )
    except InvalidLink as exc:
        form = EmailLinkForm(formdata=None)
        return render_template(
            "link_invalid.html", link="status", expired=exc.expired, form=form
        ), 400
    return None


def _lead() -> Lead:
    lead: Lead = g.patient_lead
    return lead


def _page(status: int = 200, **sent: FlaskForm) -> ResponseReturnValue:
    """The page with every form on it; `sent` holds a form that came back with errors,
    named `message_<assignment id>` or `documents_form`."""
    page = patient_page(db.session, _lead().id, utcnow().date())
    trip = _trip_estimates(page)
    if status == 200 and trip["trip_form"].errors:
        status = 422
    message_forms = {
        a.assignment.id: sent.get(f"message_{a.assignment.id}")
        or MessageForm(prefix=f"m{a.assignment.id}", formdata=None)
        for a in page.answers
    }
    response = make_response(
        render_template(
            "inquiries/status.html",
            page=page,
            message_forms=message_forms,
            documents_form=sent.get("documents_form") or DocumentsForm(formdata=None),
            confirm=ConfirmForm(formdata=None),
            withdraw_url=url_for("inquiries.withdraw", token=withdrawal_token(_lead())),
            **trip,
        ),
        status,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _trip_estimates(page: PatientPage) -> dict[str, Any]:
    """Each quote's whole trip on the patient's assumptions from the query string, or on our
    planning figures while one of theirs is not a usable number (its box says why)."""
    form = TripAssumptionsForm(formdata=request.args)
    assumptions = form.assumptions() if form.validate() else Assumptions()
    return {
        "trip_form": form,
        "trip_assumptions": assumptions,
        "trip_estimates": {
            answer.assignment.id: estimate_trip(answer.quote, assumptions)
            for answer in page.answers
            if answer.quote is not None
        },
    }


def _back(anchor: str | None = None) -> ResponseReturnValue:
    return redirect(url_for("patient.page", _anchor=anchor))


@bp.get("")
def page() -> ResponseReturnValue:
    """Opened from any email we sent the patient."""
    return _page()


@bp.post("/clinics/<int:assignment_id>/messages")
def message(assignment_id: int) -> ResponseReturnValue:
    form = MessageForm(prefix=f"m{assignment_id}")
    return run_form(
        form,
        form.body,
        lambda: threads.from_patient(db.session, _lead().id, assignment_id, form.body.data),
        threads.MessageRefused,
        _("Your message is sent. We emailed the clinic to read it."),
        url_for("patient.page", _anchor=f"clinic-{assignment_id}"),
        lambda sent: _page(422, **{f"message_{assignment_id}": sent}),
    )


@bp.post("/clinics/<int:assignment_id>/choose")
def choose(assignment_id: int) -> ResponseReturnValue:
    run_confirmed(
        lambda: choice.choose(
            db.session, _lead().id, assignment_id, current_app.config["STAFF_NOTIFY_EMAIL"]
        ),
        lambda chosen: _(
            "Thank you. We told %(clinic)s; they will confirm a treatment date with you.",
            clinic=chosen.clinic.name,
        ),
        explained(choice.ChoiceRefused),
    )
    return _back(f"clinic-{assignment_id}")


@bp.post("/clinics/<int:assignment_id>/agree")
def agree(assignment_id: int) -> ResponseReturnValue:
    run_confirmed(
        lambda: sharing.agree(db.session, _lead().id, assignment_id),
        lambda _none: _("Thank you. The clinic can now read your question and answer you."),
        explained(sharing.SharingRefused),
    )
    return _back(f"clinic-{assignment_id}")


@bp.post("/clinics/<int:assignment_id>/stop")
def stop(assignment_id: int) -> ResponseReturnValue:
    run_confirmed(
        lambda: sharing.stop(db.session, _lead().id, assignment_id),
        lambda _none: _("Done. This clinic no longer sees your question."),
        explained(sharing.SharingRefused),
    )
    return _back()


@bp.post("/documents")
def add_documents() -> ResponseReturnValue:
    form = DocumentsForm()
    return run_form(
        form,
        form.files,
        lambda: documents.add_documents(
            db.session, _lead().id, form.uploads, current_app.config["UPLOAD_DIR"]
        ),
        documents.DocumentRefused,
        _("Thank you. The clinics that have your question can now see your documents."),
        url_for("patient.page", _anchor="documents"),
        lambda sent: _page(422, documents_form=sent),
    )


@bp.post("/visa-letter")
def ask_for_visa_letter() -> ResponseReturnValue:
    run_confirmed(
        lambda: documents.request_visa_letter(db.session, _lead().id),
        lambda _none: _(
            "We asked the clinic for your visa letter. We will email you when it is ready."
        ),
        explained(documents.DocumentRefused),
    )
    return _back("visa-letter")


@bp.get("/visa-letter/<int:attachment_id>")
def visa_letter(attachment_id: int) -> ResponseReturnValue:
    letter = documents.visa_letter_of(_lead())
    if letter is None or letter.id != attachment_id:
        abort(404)
    return send_attachment(current_app.config["UPLOAD_DIR"], letter, _lead().reference)
