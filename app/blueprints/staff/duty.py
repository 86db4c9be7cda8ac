"""A staff member's own on-duty switch, in the console's header: assignment rules give new
leads only to those on duty."""

from __future__ import annotations

from flask import Blueprint, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from app.extensions import db
from app.services.accounts.staff import set_on_duty
from app.web.actions import explained, run_confirmed
from app.web.sign_in import current_staff, safe_next

bp = Blueprint("duty", __name__, url_prefix="/duty")


@bp.post("")
def switch() -> ResponseReturnValue:
    on_duty = request.form.get("on_duty") == "1"
    run_confirmed(
        lambda: set_on_duty(db.session, current_staff().id, on_duty),
        lambda _none: (
            _("You are on duty: new leads can be assigned to you.")
            if on_duty
            else _("You are off duty: no new lead will be assigned to you.")
        ),
        explained(),
    )
    return redirect(safe_next(request.form.get("back"), url_for("staff.leads.leads")))
