"""Staff sign-in and sign-out (the pages themselves are shared with the portal)."""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from app.extensions import limiter
from app.models import StaffUser
from app.web.sign_in import login_limit, sign_in_page, sign_out

bp = Blueprint("sign_in", __name__)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
def login() -> ResponseReturnValue:
    return sign_in_page(StaffUser, "staff/base.html", _("Staff sign-in"), "staff.clinics.clinics")


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    return sign_out("staff.sign_in.login")
