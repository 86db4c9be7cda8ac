"""Patients' requests for a copy of their data or its erasure, handled by staff."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext

from app.extensions import db
from app.forms.common import ConfirmForm
from app.services.privacy import requests as privacy
from app.web.actions import Refusals, run_confirmed
from app.web.downloads import send_record
from app.web.sign_in import current_staff

bp = Blueprint("privacy", __name__, url_prefix="/privacy")

_HANDLED: Refusals = {privacy.RequestClosed: lambda _exc: _("That request was already handled.")}


@bp.get("")
def requests() -> ResponseReturnValue:
    return render_template(
        "staff/privacy.html",
        waiting=privacy.waiting_requests(db.session),
        handled=privacy.recently_handled(db.session),
        form=ConfirmForm(),
    )


@bp.post("/<int:request_id>/send")
def send(request_id: int) -> ResponseReturnValue:
    """Answer a request for a copy: the patient is emailed a link to download it."""
    run_confirmed(
        lambda: privacy.send_copy(db.session, request_id, current_staff().id),
        lambda _request: _("The patient is emailed a link to download their information."),
        _HANDLED,
    )
    return redirect(url_for("staff.privacy.requests"))


@bp.post("/<int:request_id>/export")
def export(request_id: int) -> ResponseReturnValue:
    """A JSON file of every record about the address, for staff to check; the patient gets
    their own copy through `send`."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        document = privacy.export_data(
            db.session, request_id, current_staff().id, current_app.config["UPLOAD_DIR"]
        )
    except LookupError:
        abort(404)
    return send_record(document, f"careroute-data-request-{request_id}.json")


@bp.post("/<int:request_id>/erase")
def erase(request_id: int) -> ResponseReturnValue:
    run_confirmed(
        lambda: privacy.erase(
            db.session, request_id, current_staff().id, current_app.config["UPLOAD_DIR"]
        ),
        lambda erased: ngettext(
            "%(num)d lead anonymised; the clinics that had it are told.",
            "%(num)d leads anonymised; the clinics that had them are told.",
            erased,
        ),
        _HANDLED,
    )
    return redirect(url_for("staff.privacy.requests"))
