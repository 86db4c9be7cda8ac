"""A partner's or a clinic's webhooks, managed with its own key: subscribe, list, stop, read
a subscription's delivery log and send a delivery again."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from app.blueprints.api.auth import current_key, keyed
from app.blueprints.api.schemas import (
    DeliverySchema,
    NewWebhookSchema,
    WebhookRequestSchema,
    WebhookSchema,
)
from app.extensions import db
from app.models import WebhookSubscription
from app.services import audit
from app.services.integrations import webhooks
from app.services.integrations.keys import WEBHOOKS
from app.web.problems import refuse

bp = Blueprint("api_webhooks", __name__, url_prefix="/api/v1", description="Webhooks")


def _owner() -> tuple[int | None, int | None]:
    """A partner's or a clinic's key: staff do not subscribe (they read the console)."""
    key = current_key()
    if key.partner_id is None and key.clinic_id is None:
        refuse(403, message="Only a partner's or a clinic's key has webhooks.")
    return key.partner_id, key.clinic_id


def _actor() -> audit.Actor:
    return audit.Actor.system(f"api key {current_key().prefix}")


def _subscription(subscription_id: int) -> WebhookSubscription:
    try:
        return webhooks.owned(db.session, subscription_id, *_owner())
    except LookupError:
        refuse(404, message="No such webhook for this key's owner.")


@bp.post("/webhooks")
@keyed(bp, WEBHOOKS, 422)
@bp.arguments(WebhookRequestSchema, location="json")
@bp.response(201, NewWebhookSchema)
def subscribe(body: dict[str, Any]) -> Any:
    """Subscribe a URL to events.

    The answer holds the subscription's signing `secret`, this once: keep it to verify each
    delivery's `webhook-signature` (Standard Webhooks). A URL on a private, loopback or
    link-local address is refused when a delivery is sent."""
    partner_id, clinic_id = _owner()
    try:
        return webhooks.subscribe(
            db.session,
            body["url"],
            body["events"],
            _actor(),
            partner_id=partner_id,
            clinic_id=clinic_id,
        )
    except webhooks.SubscriptionRefused as exc:
        refuse(422, message=str(exc), errors={"url": [str(exc)]})


@bp.get("/webhooks")
@keyed(bp, WEBHOOKS)
@bp.response(200, WebhookSchema(many=True))
def subscriptions() -> Any:
    """The key owner's subscriptions, newest first (no secrets)."""
    return webhooks.subscriptions_of(db.session, *_owner())


@bp.delete("/webhooks/<int:subscription_id>")
@keyed(bp, WEBHOOKS, 404)
@bp.response(204)
def unsubscribe(subscription_id: int) -> None:
    """Stop a subscription: no further deliveries, its log goes with it."""
    webhooks.unsubscribe(db.session, _subscription(subscription_id), _actor())


@bp.get("/webhooks/<int:subscription_id>/deliveries")
@keyed(bp, WEBHOOKS, 404)
@bp.response(200, DeliverySchema(many=True))
def deliveries(subscription_id: int) -> Any:
    """A subscription's last 100 deliveries, newest first, with each one's outcome."""
    return webhooks.delivery_log(db.session, _subscription(subscription_id).id)


@bp.post("/webhooks/<int:subscription_id>/deliveries/<int:delivery_id>/redeliver")
@keyed(bp, WEBHOOKS, 404)
@bp.response(202, DeliverySchema)
def redeliver(subscription_id: int, delivery_id: int) -> Any:
    """Send a delivery again, with a new `webhook-id`.

    Asking says the endpoint works again: a disabled subscription is turned back on."""
    try:
        return webhooks.redeliver(db.session, _subscription(subscription_id), delivery_id, _actor())
    except LookupError:
        refuse(404, message="No such delivery for this webhook.")
