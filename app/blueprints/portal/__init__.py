"""The clinic portal, everything under /portal.

One parent blueprint checks that a clinic user is signed in, once, for every page of its
children (Flask runs a parent's `before_request` for its nested blueprints):

    /portal/login, /logout   sign_in.py    open: sign-in (sign-out needs a session)
    /portal/password...      passwords.py  open: set a password from a link, ask for one
    /portal/, /leads/...     leads.py      the clinic's inquiries and its answers
    /portal/listing          listing.py    the clinic's public listing
    /portal/team             team.py       colleagues' accounts
    /portal/team/api-keys    api_keys.py   the clinic's API keys
    /portal/team/webhooks    webhooks.py   the clinic's webhooks and their delivery logs
"""

from __future__ import annotations

from flask import Blueprint, g, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from app.blueprints.portal import api_keys, leads, listing, passwords, sign_in, team, webhooks
from app.web.sign_in import sign_in_first

bp = Blueprint("portal", __name__, url_prefix="/portal")
for child in (sign_in.bp, passwords.bp, leads.bp, listing.bp, team.bp, api_keys.bp, webhooks.bp):
    bp.register_blueprint(child)

PUBLIC_ENDPOINTS = {
    "portal.sign_in.login",
    "portal.passwords.set_password",
    "portal.passwords.forgot_password",
}


@bp.before_request
def require_clinic_user() -> ResponseReturnValue | None:
    """Every portal page but the open ones needs a signed-in clinic user."""
    if current_user.is_authenticated and current_user.is_clinic_user:
        user = current_user.clinic_user
        # The portal speaks the user's language, else the clinic's (Korean by default).
        g.account_locale = user.language or user.clinic.language
        return None
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    return sign_in_first("portal.sign_in.login")
