"""A clinic's API keys, for its own systems (a CRM, a booking tool): a key belongs to the
clinic, not to the colleague who made it, so any colleague may make or revoke one, and it
reads and answers the clinic's leads only."""

from __future__ import annotations

from flask import Blueprint

from app.forms.api_keys import KeyForm
from app.services import audit
from app.services.integrations import keys
from app.web.api_keys import OwnKeys
from app.web.sign_in import current_clinic_user

bp = Blueprint("api_keys", __name__, url_prefix="/team/api-keys")

OwnKeys(
    template="portal/api_keys.html",
    form=KeyForm,
    owner=lambda: keys.Owner(clinic_id=current_clinic_user().clinic_id),
    actor=lambda: audit.Actor.clinic_user(current_clinic_user()),
    scopes=lambda _form: keys.CLINIC_SCOPES,
).register(bp)
