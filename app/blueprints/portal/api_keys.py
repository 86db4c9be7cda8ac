"""A clinic's API keys, for its own systems (a CRM, a booking tool): a key belongs to the
clinic, not to the colleague who made it, so any colleague may make or revoke one, and it
reads and answers the clinic's leads only."""

from __future__ import annotations

from flask import Blueprint, url_for
from flask.typing import ResponseReturnValue

from app.extensions import db
from app.forms.api_keys import KeyForm
from app.services import audit
from app.services.integrations import keys
from app.web.api_keys import keys_page, revoke_key
from app.web.sign_in import current_clinic_user

bp = Blueprint("api_keys", __name__, url_prefix="/team/api-keys")


def _clinics() -> keys.Owner:
    return keys.Owner(clinic_id=current_clinic_user().clinic_id)


def _page(
    form: KeyForm, status: int = 200, new_key: keys.NewKey | None = None
) -> ResponseReturnValue:
    return keys_page(
        "portal/api_keys.html",
        status,
        keys=keys.live_keys(db.session, _clinics()),
        form=form,
        new_key=new_key,
        clinic=current_clinic_user().clinic,
    )


@bp.get("")
def api_keys() -> ResponseReturnValue:
    return _page(KeyForm())


@bp.post("")
def create() -> ResponseReturnValue:
    form = KeyForm()
    if not form.validate_on_submit():
        return _page(form, 422)
    new_key = keys.create_key(
        db.session,
        form.name.data,
        keys.CLINIC_SCOPES,
        audit.Actor.clinic_user(current_clinic_user()),
        _clinics(),
    )
    return _page(KeyForm(formdata=None), new_key=new_key)


@bp.post("/<int:key_id>/revoke")
def revoke(key_id: int) -> ResponseReturnValue:
    return revoke_key(
        key_id,
        audit.Actor.clinic_user(current_clinic_user()),
        _clinics(),
        url_for("portal.api_keys.api_keys"),
    )
