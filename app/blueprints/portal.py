"""The clinic portal. Clinic sign-in and lead pages arrive with the portal issue; for now the
link in a notification email lands on a page that says how the clinic will see the lead."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

bp = Blueprint("portal", __name__, url_prefix="/portal")


@bp.get("/leads/<int:lead_id>")
def lead(lead_id: int) -> ResponseReturnValue:
    return render_template("portal/lead_pending.html"), 200
