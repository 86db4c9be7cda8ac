"""A staff member's own API keys: each acts as them (their actions, their audit trail),
so only they make and revoke theirs, choosing what each may do."""

from __future__ import annotations

from flask import Blueprint

from app.forms.api_keys import StaffKeyForm
from app.services import audit
from app.services.integrations import keys
from app.web.api_keys import OwnKeys
from app.web.sign_in import current_staff

bp = Blueprint("api_keys", __name__, url_prefix="/api-keys")


OwnKeys(
    template="staff/api_keys.html",
    form=StaffKeyForm,
    owner=lambda: keys.Owner(staff_user_id=current_staff().id),
    actor=lambda: audit.Actor.staff(current_staff()),
    scopes=lambda form: tuple(form.scopes.data),
).register(bp)
