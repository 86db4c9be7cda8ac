"""Partner sites, their keys and their webhooks, managed by admins: a partner's key sends
patients' inquiries in CareRoute's name, so only an admin makes or revokes one. Partners
themselves are registered from the command line (`flask partner create`)."""

from __future__ import annotations

from flask import Blueprint, abort, url_for
from flask.typing import ResponseReturnValue

from app.blueprints.staff.users import require_admin
from app.extensions import db
from app.forms.api_keys import KeyForm
from app.models import Partner
from app.services import audit
from app.services.integrations import keys, partners
from app.web.api_keys import once_only_page, revoke_key
from app.web.sign_in import current_staff
from app.web.webhooks import OwnWebhooks, WebhookOwner

bp = Blueprint("partners", __name__, url_prefix="/partners")
bp.before_request(require_admin)


def _partner(partner_id: int) -> WebhookOwner:
    partner = db.session.get(Partner, partner_id)
    if partner is None:
        abort(404)
    return WebhookOwner(partner.name, partner_id=partner.id)


# Nested, so the admins-only guard above covers it too.
webhooks_bp = Blueprint("webhooks", __name__, url_prefix="/<int:partner_id>/webhooks")
OwnWebhooks(
    template="staff/partner_webhooks.html",
    log_template="staff/partner_webhook_log.html",
    owner=_partner,
    actor=lambda: audit.Actor.staff(current_staff()),
).register(webhooks_bp)
bp.register_blueprint(webhooks_bp)


def _form(partner_id: int, **kwargs: object) -> KeyForm:
    """Each partner has its own form on the page, so each has its own field names."""
    return KeyForm(prefix=f"partner-{partner_id}", **kwargs)


def _page(
    sent: dict[int, KeyForm] | None = None,
    status: int = 200,
    new_key: keys.NewKey | None = None,
) -> ResponseReturnValue:
    """`sent` holds the form that came back with errors, by its partner's id."""
    listing = partners.partners_with_keys(db.session)
    forms = {
        entry.partner.id: (sent or {}).get(entry.partner.id)
        or _form(entry.partner.id, formdata=None)
        for entry in listing
    }
    return once_only_page(
        "staff/partners.html", status, partners=listing, forms=forms, new_key=new_key
    )


@bp.get("")
def partners_page() -> ResponseReturnValue:
    return _page()


@bp.post("/<int:partner_id>/keys")
def create_key(partner_id: int) -> ResponseReturnValue:
    form = _form(partner_id)
    if not form.validate_on_submit():
        return _page({partner_id: form}, 422)
    try:
        new_key = partners.add_key(
            db.session, partner_id, form.name.data, audit.Actor.staff(current_staff())
        )
    except LookupError:
        abort(404)
    return _page(new_key=new_key)


@bp.post("/<int:partner_id>/keys/<int:key_id>/revoke")
def revoke(partner_id: int, key_id: int) -> ResponseReturnValue:
    return revoke_key(
        key_id,
        audit.Actor.staff(current_staff()),
        keys.Owner(partner_id=partner_id),
        url_for("staff.partners.partners_page"),
    )
