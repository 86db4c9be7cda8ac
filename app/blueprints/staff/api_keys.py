"""A staff member's own API keys: each acts as them (their actions, their audit trail),
so only they make and revoke theirs."""

from __future__ import annotations

from flask import Blueprint, url_for
from flask.typing import ResponseReturnValue

from app.extensions import db
from app.forms.api_keys import StaffKeyForm
from app.services import audit
from app.services.integrations import keys
from app.web.api_keys import keys_page, revoke_key
from app.web.sign_in import current_staff

bp = Blueprint("api_keys", __name__, url_prefix="/api-keys")


def _mine() -> keys.Owner:
    return keys.Owner(staff_user_id=current_staff().id)


def _page(
    form: StaffKeyForm, status: int = 200, new_key: keys.NewKey | None = None
) -> ResponseReturnValue:
    return keys_page(
        "staff/api_keys.html",
        status,
        keys=keys.live_keys(db.session, _mine()),
        form=form,
        new_key=new_key,
    )


@bp.get("")
def api_keys() -> ResponseReturnValue:
    return _page(StaffKeyForm())


@bp.post("")
def create() -> ResponseReturnValue:
    form = StaffKeyForm()
    if not form.validate_on_submit():
        return _page(form, 422)
    new_key = keys.create_key(
        db.session,
        form.name.data,
        tuple(form.scopes.data),
        audit.Actor.staff(current_staff()),
        _mine(),
    )
    return _page(StaffKeyForm(formdata=None), new_key=new_key)


@bp.post("/<int:key_id>/revoke")
def revoke(key_id: int) -> ResponseReturnValue:
    return revoke_key(
        key_id, audit.Actor.staff(current_staff()), _mine(), url_for("staff.api_keys.api_keys")
    )
