"""The staff console, everything under /staff.

One parent blueprint checks that a staff member is signed in, once, for every page of its
children (Flask runs a parent's `before_request` for its nested blueprints):

    /staff/login, /logout     sign_in.py   (the sign-in page is the only open one)
    /staff/leads, /dashboard  leads.py     leads, their actions, the CSV export
    /staff/clinics            clinics.py   clinic applications, review and credentials
    /staff/privacy            privacy.py   patients' requests for a copy or an erasure
    /staff/users              users.py     staff accounts (admins only)
    /staff/api-keys           api_keys.py  a staff member's own API keys
    /staff/partners           partners.py  partner sites, their keys and webhooks (admins only)
    /staff/assignment-rules   assignment_rules.py  who new leads go to (admins only)
    /staff/duty               duty.py      a staff member's own on-duty switch
"""

from __future__ import annotations

from flask import Blueprint, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from app.blueprints.staff import (
    api_keys,
    assignment_rules,
    clinics,
    duty,
    leads,
    partners,
    privacy,
    sign_in,
    users,
)
from app.web.sign_in import sign_in_first

bp = Blueprint("staff", __name__, url_prefix="/staff")
for child in (
    sign_in.bp,
    leads.bp,
    clinics.bp,
    privacy.bp,
    users.bp,
    api_keys.bp,
    partners.bp,
    assignment_rules.bp,
    duty.bp,
):
    bp.register_blueprint(child)

PUBLIC_ENDPOINTS = {"staff.sign_in.login"}


@bp.before_request
def require_staff() -> ResponseReturnValue | None:
    """Every console page needs a signed-in staff member."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if current_user.is_authenticated and current_user.is_staff:
        return None
    return sign_in_first("staff.sign_in.login")


@bp.get("/")
def home() -> ResponseReturnValue:
    return redirect(url_for("staff.clinics.clinics"))
