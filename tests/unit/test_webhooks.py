"""Webhooks: events queued with the change they report, signed as Standard Webhooks says
(checked with the reference library), never holding health data, never sent inside."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from standardwebhooks import Webhook

from app.extensions import db
from app.models import (
    DeliveryStatus,
    OutboundEmail,
    OutboxMessage,
    Partner,
    WebhookDelivery,
    WebhookSubscription,
)
from app.services import audit
from app.services.integrations import keys, partners, webhooks
from app.services.integrations.webhooks import WebhookPolicy
from app.services.mail.delivery import Outcome
from tests.support.clock import NOW
from tests.support.data import inquiry
from tests.support.factories import make_clinic
from tests.support.webhook_receiver import WebhookReceiver

SYSTEM = audit.Actor.system("test")


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    started = WebhookReceiver().start()
    yield started
    started.stop()


@pytest.fixture
def policy(app: Flask) -> WebhookPolicy:
    return replace(WebhookPolicy.from_config(app.config), allow_private=True, max_attempts=3)


@pytest.fixture
def partner(app: Flask) -> Partner:
    created, _key = partners.create_partner(db.session, "Steppe Travel", [], SYSTEM)
    created.contact_email = "tech@steppe-travel.example"
    db.session.commit()
    return created


def subscribe(partner: Partner, url: str) -> WebhookSubscription:
    return webhooks.subscribe(
        db.session, url, ["lead.created", "lead.routed"], SYSTEM, partner_id=partner.id
    )


def send_from_partner(app: Flask, partner: Partner) -> None:
    make_clinic("Alpha")
    browser = app.test_client(use_cookies=False)
    page = f"/embed/inquire?partner={partner.public_id}"
    assert browser.post(page, data=inquiry(message="My knee aches at night")).status_code == 200


def only_delivery() -> WebhookDelivery:
    return db.session.scalars(select(WebhookDelivery)).one()


def test_an_event_is_queued_with_the_change_and_holds_no_health_data(app: Flask, partner: Partner):
    subscription = subscribe(partner, "https://hooks.steppe-travel.example/careroute")
    send_from_partner(app, partner)

    delivery = only_delivery()
    assert delivery.subscription_id == subscription.id and delivery.event == "lead.created"
    assert set(delivery.payload["data"]) == {"lead_id", "reference"}
    text = json.dumps(delivery.payload)
    assert "knee" not in text and "@" not in text and "Aigerim" not in text
    tasks = db.session.scalars(select(OutboxMessage.task)).all()
    assert "webhooks.deliver" in tasks


def test_a_delivery_is_signed_as_standard_webhooks_says(
    app: Flask, partner: Partner, receiver: WebhookReceiver, policy: WebhookPolicy
):
    subscription = subscribe(partner, receiver.url)
    send_from_partner(app, partner)

    attempt = webhooks.deliver(db.session, only_delivery().id, policy)

    assert attempt.outcome is Outcome.SENT
    [got] = receiver.received
    verified = Webhook(subscription.secret).verify(got.body, got.headers)
    assert verified["type"] == "lead.created"
    assert got.headers["webhook-id"] == only_delivery().message_id
    assert only_delivery().status is DeliveryStatus.SENT


def test_a_private_address_is_refused_at_send_time(
    app: Flask, partner: Partner, receiver: WebhookReceiver, policy: WebhookPolicy
):
    subscribe(partner, receiver.url)
    send_from_partner(app, partner)

    attempt = webhooks.deliver(db.session, only_delivery().id, replace(policy, allow_private=False))

    assert attempt.outcome is Outcome.FAILED
    assert receiver.received == []
    assert "non-public address (127.0.0.1)" in (only_delivery().last_error or "")


def test_a_redirect_is_not_followed(
    app: Flask, partner: Partner, receiver: WebhookReceiver, policy: WebhookPolicy
):
    receiver.status, receiver.location = 302, "http://169.254.169.254/latest/meta-data"
    subscribe(partner, receiver.url)
    send_from_partner(app, partner)

    attempt = webhooks.deliver(db.session, only_delivery().id, policy)

    assert attempt.outcome is Outcome.RETRY and len(receiver.received) == 1
    assert only_delivery().last_status_code == 302


def test_failures_back_off_then_give_up_and_a_failing_subscription_is_disabled(
    app: Flask, partner: Partner, receiver: WebhookReceiver, policy: WebhookPolicy
):
    receiver.status = 503
    subscription = subscribe(partner, receiver.url)
    send_from_partner(app, partner)
    delivery_id = only_delivery().id

    first = webhooks.deliver(db.session, delivery_id, policy, now=NOW)
    second = webhooks.deliver(db.session, delivery_id, policy, now=NOW + timedelta(minutes=1))
    assert (first.outcome, second.outcome) == (Outcome.RETRY, Outcome.RETRY)
    assert second.retry_in == 2 * first.retry_in
    last = webhooks.deliver(db.session, delivery_id, policy, now=NOW + timedelta(days=4))

    assert last.outcome is Outcome.FAILED and only_delivery().attempts == 3
    db.session.refresh(subscription)
    assert subscription.disabled_at is not None
    [told] = db.session.scalars(
        select(OutboundEmail).where(OutboundEmail.template == "webhook_disabled")
    ).all()
    assert told.recipient == "tech@steppe-travel.example"


def test_an_api_inquiry_from_another_partner_is_not_told_to_this_one(
    client: FlaskClient, app: Flask, partner: Partner
):
    subscribe(partner, "https://hooks.steppe-travel.example/careroute")
    other, _key = partners.create_partner(db.session, "Another Blog", [], SYSTEM)
    send_from_partner(app, other)
    assert db.session.scalars(select(WebhookDelivery)).all() == []


def test_an_owner_manages_its_webhooks_with_its_key(app: Flask, client: FlaskClient):
    partner, key = partners.create_partner(db.session, "Steppe Travel", [], SYSTEM)
    other, other_key = partners.create_partner(db.session, "Another Blog", [], SYSTEM)
    bearer = {"Authorization": f"Bearer {key.secret}"}

    made = client.post(
        "/api/v1/webhooks",
        json={"url": "https://hooks.steppe-travel.example/in", "events": ["lead.created"]},
        headers=bearer,
    )
    assert made.status_code == 201 and made.get_json()["secret"].startswith("whsec_")
    hook = made.get_json()["id"]
    listed = client.get("/api/v1/webhooks", headers=bearer).get_json()
    assert [h["id"] for h in listed] == [hook] and "secret" not in listed[0]
    theirs = {"Authorization": f"Bearer {other_key.secret}"}
    assert client.get(f"/api/v1/webhooks/{hook}/deliveries", headers=theirs).status_code == 404
    refused = client.post(
        "/api/v1/webhooks", json={"url": "ftp://x", "events": ["lead.created"]}, headers=bearer
    )
    assert refused.status_code == 422 and "url" in refused.get_json()["errors"]
    assert client.delete(f"/api/v1/webhooks/{hook}", headers=theirs).status_code == 404
    assert client.delete(f"/api/v1/webhooks/{hook}", headers=bearer).status_code == 204
    assert db.session.scalars(select(WebhookSubscription)).all() == []
    assert other.id != partner.id


def test_a_failed_delivery_is_sent_again_and_its_subscription_turned_back_on(
    app: Flask, client: FlaskClient, partner: Partner, receiver: WebhookReceiver
):
    subscription = subscribe(partner, receiver.url)
    send_from_partner(app, partner)
    delivery = only_delivery()
    delivery.status = DeliveryStatus.FAILED
    subscription.disabled_at = NOW
    db.session.commit()
    key = keys.create_key(
        db.session, "ops", keys.PARTNER_SCOPES, SYSTEM, keys.Owner(partner_id=partner.id)
    )
    bearer = {"Authorization": f"Bearer {key.secret}"}

    log = client.get(f"/api/v1/webhooks/{subscription.id}/deliveries", headers=bearer).get_json()
    again = client.post(
        f"/api/v1/webhooks/{subscription.id}/deliveries/{delivery.id}/redeliver", headers=bearer
    )

    assert [d["status"] for d in log] == ["failed"]
    assert again.status_code == 202 and again.get_json()["status"] == "pending"
    db.session.refresh(subscription)
    assert subscription.disabled_at is None
    queued = db.session.scalars(select(OutboxMessage.args)).all()
    assert [delivery.id] in queued
