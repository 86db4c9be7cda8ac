"""A clinic's webhooks, for its own systems: like its API keys, they belong to the clinic,
not to the colleague who subscribed, so any colleague may subscribe, stop one or send a
delivery again."""

from __future__ import annotations

from flask import Blueprint

from app.services import audit
from app.web.sign_in import current_clinic_user
from app.web.webhooks import OwnWebhooks, WebhookOwner

bp = Blueprint("webhooks", __name__, url_prefix="/team/webhooks")


def _clinic() -> WebhookOwner:
    clinic = current_clinic_user().clinic
    return WebhookOwner(clinic.name, clinic_id=clinic.id)


OwnWebhooks(
    template="portal/webhooks.html",
    log_template="portal/webhook_log.html",
    owner=_clinic,
    actor=lambda: audit.Actor.clinic_user(current_clinic_user()),
).register(bp)
