"""Webhooks on the real stack: an inquiry a partner sends through the API is routed by the
worker, and the partner's endpoint receives each event once, signed as Standard Webhooks
says (checked with the reference library), with ids and links only."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from flask import Flask
from standardwebhooks import Webhook

from app.extensions import db
from app.services import audit
from app.services.integrations import partners, webhooks
from tests.support.factories import make_clinic
from tests.support.smtp_server import SmtpServer
from tests.support.stack import WorkerProcess, wait_until
from tests.support.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.integration

MESSAGE = "Both knees swell after walking; my doctor suggested stem cells."


@pytest.fixture
def stack_settings(stack_settings: dict[str, str]) -> dict[str, str]:
    """The partner's endpoint listens on loopback, which only development may call."""
    return {**stack_settings, "WEBHOOK_ALLOW_PRIVATE": "1", "WEBHOOK_RETRY_BASE_SECONDS": "0.2"}


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    started = WebhookReceiver().start()
    yield started
    started.stop()


def test_a_partners_endpoint_hears_of_its_lead_once_per_event(
    stack_app: Flask,
    worker: WorkerProcess,
    relay_thread: None,
    smtp_server: SmtpServer,
    receiver: WebhookReceiver,
):
    make_clinic("Alpha")
    partner, key = partners.create_partner(
        db.session, "Steppe Travel", [], audit.Actor.system("test")
    )
    subscription = webhooks.subscribe(
        db.session,
        receiver.url,
        ["lead.created", "lead.routed", "lead.status_changed"],
        audit.Actor.system("test"),
        partner_id=partner.id,
    )
    body = {
        "full_name": "Bolormaa Testova",
        "email": "bolormaa.testova@example.com",
        "phone": "+97688112233",
        "country": "MN",
        "language": "mn",
        "procedure": "autologous-msc-injection",
        "message": MESSAGE,
        "consent": True,
    }
    sent = stack_app.test_client().post(
        "/api/v1/inquiries",
        json=body,
        headers={"Authorization": f"Bearer {key.secret}", "Idempotency-Key": "form-77"},
    )
    assert sent.status_code == 201
    reference = sent.get_json()["reference"]

    wait_until(lambda: len(receiver.received) >= 3, message="three events delivered")
    verifier = Webhook(subscription.secret)
    events = [verifier.verify(got.body, got.headers) for got in receiver.received]
    assert sorted(e["type"] for e in events) == [
        "lead.created",
        "lead.routed",
        "lead.status_changed",
    ]
    assert all(e["data"]["reference"] == reference for e in events)
    assert len({got.headers["webhook-id"] for got in receiver.received}) == 3
    for got in receiver.received:
        assert MESSAGE not in got.body.decode() and "bolormaa" not in got.body.decode()
    changed = next(e for e in events if e["type"] == "lead.status_changed")
    assert (changed["data"]["before"], changed["data"]["status"]) == ("new", "routed")
    assert json.loads(receiver.received[0].body)["data"]["lead_id"] > 0
