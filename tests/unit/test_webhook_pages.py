"""Webhooks managed in a browser: a clinic's in the portal, a partner's by admins in the
console. A new one's secret is shown once; a bad address is refused next to the field; a
webhook is stopped with a button; its delivery log sends a delivery again and turns a
disabled webhook back on; nobody reaches another owner's."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.models import (
    AuditEvent,
    Clinic,
    DeliveryStatus,
    OutboxMessage,
    Partner,
    WebhookSubscription,
)
from app.services import audit
from app.services.integrations import partners, webhooks
from tests.support.clock import NOW
from tests.support.factories import make_clinic, make_clinic_user, make_webhook_delivery
from tests.support.forms import post, submit
from tests.support.portal import sign_in

SYSTEM = audit.Actor.system("test")
PORTAL = "/portal/team/webhooks"
HOOK_URL = "https://crm.alpha.example/careroute"
SECRET = re.compile(r'id="new-secret" value="(whsec_[^"]+)"')
URL_ERROR = re.compile(r'<p class="error" id="url-error">([^<]*)</p>')


def made_secret(page: str) -> str:
    match = SECRET.search(page)
    assert match, "the new secret is not on the page"
    return match.group(1)


def url_error(page: str) -> str:
    """The message shown next to the address field ("" when there is none)."""
    match = URL_ERROR.search(page)
    return match.group(1) if match else ""


def ticked(page: str, event: str) -> bool:
    return re.search(rf'<input checked [^>]*value="{re.escape(event)}"', page) is not None


def subscriptions() -> list[WebhookSubscription]:
    return list(db.session.scalars(select(WebhookSubscription)))


@pytest.fixture
def alpha(app: Flask) -> Clinic:
    return make_clinic("Alpha")


@pytest.fixture
def portal(app: Flask, alpha: Clinic) -> FlaskClient:
    return sign_in(app.test_client(), make_clinic_user(alpha).email)


def clinic_hook(clinic: Clinic) -> WebhookSubscription:
    return webhooks.subscribe(
        db.session, HOOK_URL, ["assignment.answered"], SYSTEM, clinic_id=clinic.id
    )


def test_the_team_page_leads_to_the_webhooks(portal: FlaskClient):
    assert f'href="{PORTAL}"' in portal.get("/portal/team").text


def test_a_clinic_subscribes_and_sees_the_secret_once(portal: FlaskClient, alpha: Clinic):
    made = submit(portal, PORTAL, {"url": HOOK_URL, "events": ["lead.routed", "message.created"]})
    secret = made_secret(made.text)
    again = portal.get(PORTAL).text

    [row] = subscriptions()
    assert made.status_code == 200 and made.headers["Cache-Control"] == "no-store"
    assert (row.clinic_id, row.events, row.secret) == (
        alpha.id,
        ["lead.routed", "message.created"],
        secret,
    )
    assert secret not in again and "whsec_" not in again
    assert HOOK_URL in again and "<code>message.created</code>" in again and "Active" in again
    subscribed = db.session.scalar(select(AuditEvent).where(AuditEvent.object_type == "webhook"))
    assert (subscribed.action, subscribed.actor_type) == ("webhook.subscribed", "clinic_user")


def test_every_event_is_offered_with_what_it_means(portal: FlaskClient):
    page = portal.get(PORTAL).text

    for event in webhooks.EVENTS:
        label = re.escape(f"{event}: ")
        assert re.search(rf'value="{re.escape(event)}"> <label for="[^"]+">{label}\w', page)


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("http://127.0.0.1:8000/hooks", "inside a private network or on this computer"),
        ("https://localhost/careroute", "inside a private network or on this computer"),
        ("https://10.1.2.3/careroute", "inside a private network or on this computer"),
        ("https://[::1]/careroute", "inside a private network or on this computer"),
        ("http://2130706433/careroute", "inside a private network or on this computer"),
        ("ftp://crm.alpha.example/careroute", "starts with https:// and names a host"),
        ("crm.alpha.example/careroute", "starts with https:// and names a host"),
        ("https://[::1/careroute", "starts with https:// and names a host"),
        ("", "Please enter the address"),
        ("https://crm.alpha.example/" + "x" * 2000, "under 2,000 characters"),
    ],
)
def test_a_bad_address_is_refused_next_to_the_field_and_nothing_is_stored(
    portal: FlaskClient, url: str, said: str
):
    refused = submit(portal, PORTAL, {"url": url, "events": ["assignment.answered"]})

    assert refused.status_code == 422
    assert said in url_error(refused.text)
    assert ticked(refused.text, "assignment.answered")  # the other answers are kept
    assert not ticked(refused.text, "lead.routed")
    assert "new-secret" not in refused.text
    assert subscriptions() == []
    assert (
        db.session.scalar(select(AuditEvent).where(AuditEvent.action == "webhook.subscribed"))
        is None
    )


def test_a_local_address_is_taken_where_webhooks_may_reach_inside(app: Flask, portal: FlaskClient):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True  # development: a receiver on this computer

    made = submit(portal, PORTAL, {"url": "http://127.0.0.1:8000/hooks", "events": ["lead.routed"]})

    assert made.status_code == 200 and made_secret(made.text)
    assert [row.url for row in subscriptions()] == ["http://127.0.0.1:8000/hooks"]


def test_a_webhook_needs_at_least_one_event(portal: FlaskClient):
    refused = submit(portal, PORTAL, {"url": HOOK_URL})

    assert refused.status_code == 422
    assert "Please choose at least one event." in refused.text
    assert f'value="{HOOK_URL}"' in refused.text and url_error(refused.text) == ""
    assert subscriptions() == []


def test_stop_removes_the_webhook(portal: FlaskClient, alpha: Clinic):
    hook = clinic_hook(alpha)

    stopped = post(portal, f"{PORTAL}/{hook.id}/stop", {}, page=PORTAL)

    assert stopped.status_code == 302
    after = portal.get(PORTAL).text
    assert "nothing more is sent" in after and HOOK_URL not in after
    assert subscriptions() == []


def test_stop_without_the_forms_token_changes_nothing(portal: FlaskClient, alpha: Clinic):
    hook = clinic_hook(alpha)

    assert portal.post(f"{PORTAL}/{hook.id}/stop").status_code == 400
    assert subscriptions() == [hook]


def test_another_clinics_webhook_is_not_found(app: Flask, portal: FlaskClient, alpha: Clinic):
    hook = clinic_hook(alpha)
    delivery = make_webhook_delivery(hook.id)
    beta = sign_in(app.test_client(), make_clinic_user(make_clinic("Beta")).email)

    assert HOOK_URL not in beta.get(PORTAL).text
    assert beta.get(f"{PORTAL}/{hook.id}").status_code == 404
    assert post(beta, f"{PORTAL}/{hook.id}/stop", {}, page=PORTAL).status_code == 404
    again = f"{PORTAL}/{hook.id}/deliveries/{delivery.id}/send-again"
    assert post(beta, again, {}, page=PORTAL).status_code == 404
    assert subscriptions() == [hook]
    db.session.refresh(delivery)
    assert delivery.status is DeliveryStatus.FAILED


def test_the_state_says_when_a_webhook_started_failing_or_was_disabled(
    portal: FlaskClient, alpha: Clinic
):
    hook = clinic_hook(alpha)
    hook.failing_since = NOW
    db.session.commit()
    failing = portal.get(PORTAL).text
    hook.disabled_at = NOW
    db.session.commit()
    disabled = portal.get(PORTAL).text

    assert 'Failing since <time datetime="2026-11-25' in failing and "Active" not in failing
    assert "Disabled on" in disabled and "Failing since" not in disabled


def test_the_log_lists_a_delivery_and_send_again_queues_it_and_turns_the_webhook_back_on(
    portal: FlaskClient, alpha: Clinic
):
    hook = clinic_hook(alpha)
    hook.failing_since = hook.disabled_at = NOW
    delivery = make_webhook_delivery(hook.id, last_error="answered 503 Service Unavailable")
    log = portal.get(f"{PORTAL}/{hook.id}")

    assert log.status_code == 200
    for shown in ("assignment.answered", "Failed", "answered 503 Service Unavailable", "503"):
        assert shown in log.text
    assert "Disabled on" in log.text and "turned back on" in log.text

    again = post(portal, f"{PORTAL}/{hook.id}/deliveries/{delivery.id}/send-again", {}, page=PORTAL)

    assert again.status_code == 302 and again.headers["Location"].endswith(f"{PORTAL}/{hook.id}")
    after = portal.get(f"{PORTAL}/{hook.id}").text
    assert "Waiting to be sent" in after and "Disabled on" not in after and "Active" in after
    db.session.refresh(delivery)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 0)
    queued = db.session.scalars(select(OutboxMessage)).all()
    assert [(m.task, m.args) for m in queued] == [("webhooks.deliver", [delivery.id])]
    db.session.refresh(hook)
    assert hook.disabled_at is None and hook.failing_since is None


def test_a_delivery_of_another_webhook_cannot_be_sent_again_from_this_one(
    portal: FlaskClient, alpha: Clinic
):
    hook = clinic_hook(alpha)
    other = webhooks.subscribe(
        db.session, "https://other.alpha.example/in", ["lead.routed"], SYSTEM, clinic_id=alpha.id
    )
    theirs = make_webhook_delivery(other.id)

    url = f"{PORTAL}/{hook.id}/deliveries/{theirs.id}/send-again"
    assert post(portal, url, {}, page=PORTAL).status_code == 404
    assert db.session.scalars(select(OutboxMessage)).all() == []


# --- the console: a partner's webhooks, for admins -----------------------------------------


@pytest.fixture
def partner(app: Flask) -> Partner:
    made, _key = partners.create_partner(db.session, "Steppe Travel", [], SYSTEM)
    return made


def partner_hooks(partner: Partner) -> str:
    return f"/staff/partners/{partner.id}/webhooks"


def test_an_admin_subscribes_a_partner_sees_the_secret_once_and_stops_it(
    admin_client: FlaskClient, partner: Partner
):
    page = partner_hooks(partner)
    assert f'href="{page}"' in admin_client.get("/staff/partners").text

    made = submit(
        admin_client, page, {"url": "https://hooks.steppe.example/in", "events": ["lead.created"]}
    )
    secret = made_secret(made.text)
    again = admin_client.get(page).text

    [row] = subscriptions()
    assert made.status_code == 200 and made.headers["Cache-Control"] == "no-store"
    assert (row.partner_id, row.clinic_id, row.secret) == (partner.id, None, secret)
    assert secret not in again and "https://hooks.steppe.example/in" in again
    assert db.session.scalar(select(AuditEvent.actor_type).order_by(AuditEvent.id.desc())) == (
        "staff"
    )

    assert post(admin_client, f"{page}/{row.id}/stop", {}, page=page).status_code == 302
    assert subscriptions() == []
    assert "https://hooks.steppe.example/in" not in admin_client.get(page).text


def test_an_admin_is_refused_a_private_address_for_a_partner(
    admin_client: FlaskClient, partner: Partner
):
    refused = submit(
        admin_client,
        partner_hooks(partner),
        {"url": "http://169.254.169.254/latest", "events": ["lead.created"]},
    )

    assert refused.status_code == 422
    assert "inside a private network" in url_error(refused.text)
    assert subscriptions() == []


def test_an_admin_sends_a_partners_delivery_again(admin_client: FlaskClient, partner: Partner):
    hook = webhooks.subscribe(
        db.session,
        "https://hooks.steppe.example/in",
        ["lead.created"],
        SYSTEM,
        partner_id=partner.id,
    )
    hook.disabled_at = NOW
    delivery = make_webhook_delivery(hook.id, event="lead.created")
    log = f"{partner_hooks(partner)}/{hook.id}"
    assert "lead.created" in admin_client.get(log).text

    again = post(admin_client, f"{log}/deliveries/{delivery.id}/send-again", {}, page=log)

    assert again.status_code == 302
    assert "Waiting to be sent" in admin_client.get(log).text
    assert db.session.scalars(select(OutboxMessage.args)).all() == [[delivery.id]]
    db.session.refresh(hook)
    assert hook.disabled_at is None


def test_a_partners_webhook_is_not_found_under_another_partner(
    admin_client: FlaskClient, partner: Partner
):
    hook = webhooks.subscribe(
        db.session,
        "https://hooks.steppe.example/in",
        ["lead.created"],
        SYSTEM,
        partner_id=partner.id,
    )
    other, _key = partners.create_partner(db.session, "Another Blog", [], SYSTEM)

    assert admin_client.get(f"{partner_hooks(other)}/{hook.id}").status_code == 404
    stop = f"{partner_hooks(other)}/{hook.id}/stop"
    assert post(admin_client, stop, {}, page=partner_hooks(other)).status_code == 404
    assert admin_client.get("/staff/partners/999/webhooks").status_code == 404
    assert subscriptions() == [hook]


def test_a_triager_cannot_manage_partners_webhooks(staff_client: FlaskClient, partner: Partner):
    hook = webhooks.subscribe(
        db.session,
        "https://hooks.steppe.example/in",
        ["lead.created"],
        SYSTEM,
        partner_id=partner.id,
    )
    page = partner_hooks(partner)
    data = {"url": "https://hooks.steppe.example/other", "events": ["lead.created"]}

    assert staff_client.get(page).status_code == 403
    assert staff_client.get(f"{page}/{hook.id}").status_code == 403
    assert post(staff_client, page, data).status_code == 403
    assert post(staff_client, f"{page}/{hook.id}/stop", {}).status_code == 403
    assert subscriptions() == [hook]
