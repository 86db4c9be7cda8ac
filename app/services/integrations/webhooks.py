"""Webhooks: what happened to a lead, told to the partners and clinics that subscribed.

An event is recorded in the transaction of the change it reports (a delivery row and its
task in the outbox), so a change never commits without its webhooks, and the worker sends
each one with retries. Payloads hold ids, statuses and links, never health data. Each
request is signed as the Standard Webhooks specification says (`webhook-id`,
`webhook-timestamp`, `webhook-signature`); the tests check it with the reference library.

The destination is checked when sending, after DNS: an address that is private, loopback,
link-local or otherwise not public is refused (unless WEBHOOK_ALLOW_PRIVATE, for
development), and redirects are not followed, so a subscription cannot reach inside.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import or_, select

from app import task_names
from app.models import (
    DeliveryStatus,
    Lead,
    WebhookDelivery,
    WebhookSubscription,
)
from app.models.base import DbSession, utcnow
from app.services import audit
from app.services.mail.delivery import Outcome, backoff, queue_email
from app.services.outbox import enqueue_task

log = logging.getLogger(__name__)

EVENTS = (
    "lead.created",
    "lead.routed",
    "assignment.answered",
    "lead.status_changed",
    "message.created",
)


@dataclass(frozen=True)
class LeadRef:
    """A lead as intake knows it before any ORM object exists: enough to address an event."""

    id: int
    reference: str
    partner_id: int | None


class SubscriptionRefused(ValueError):
    """The URL or the events cannot be subscribed to."""


class DestinationRefused(Exception):
    """The URL resolves to an address this service must not call."""


@dataclass(frozen=True)
class WebhookPolicy:
    max_attempts: int
    retry_base_seconds: float
    retry_max_seconds: float
    timeout_seconds: float
    disable_after: timedelta
    allow_private: bool
    staff_email: str

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> WebhookPolicy:
        return cls(
            max_attempts=config["WEBHOOK_MAX_ATTEMPTS"],
            retry_base_seconds=config["WEBHOOK_RETRY_BASE_SECONDS"],
            retry_max_seconds=config["WEBHOOK_RETRY_MAX_SECONDS"],
            timeout_seconds=config["WEBHOOK_TIMEOUT_SECONDS"],
            disable_after=timedelta(days=config["WEBHOOK_DISABLE_AFTER_DAYS"]),
            allow_private=config["WEBHOOK_ALLOW_PRIVATE"],
            staff_email=config["STAFF_NOTIFY_EMAIL"],
        )

    def backoff(self, attempt: int) -> float:
        return backoff(attempt, self.retry_base_seconds, self.retry_max_seconds)


def subscribe(
    session: DbSession,
    url: str,
    events: Iterable[str],
    actor: audit.Actor,
    *,
    partner_id: int | None = None,
    clinic_id: int | None = None,
) -> WebhookSubscription:
    """The secret is on the returned row, to be shown to its owner this once."""
    try:
        parts = urlsplit(url.strip())
    except ValueError as exc:  # an unclosed "[" (an IPv6 address) cannot be split
        raise SubscriptionRefused("a webhook URL starts with https:// and names a host") from exc
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise SubscriptionRefused("a webhook URL starts with https:// and names a host")
    wanted = sorted(set(events))
    if not wanted or not set(wanted) <= set(EVENTS):
        raise SubscriptionRefused(f"events are some of {', '.join(EVENTS)}")
    if (partner_id is None) == (clinic_id is None):
        raise SubscriptionRefused("a subscription belongs to a partner or a clinic")
    subscription = WebhookSubscription(
        url=url.strip(),
        events=wanted,
        secret="whsec_" + base64.b64encode(secrets.token_bytes(24)).decode(),
        partner_id=partner_id,
        clinic_id=clinic_id,
    )
    session.add(subscription)
    session.flush()
    audit.record(
        session, actor, "webhook.subscribed", webhook=subscription.id, changes={"events": wanted}
    )
    session.commit()
    return subscription


def subscriptions_of(
    session: DbSession, partner_id: int | None, clinic_id: int | None
) -> list[WebhookSubscription]:
    """An owner's subscriptions (a partner's or a clinic's), newest first."""
    owner = (
        WebhookSubscription.partner_id == partner_id
        if partner_id is not None
        else WebhookSubscription.clinic_id == clinic_id
    )
    return list(
        session.scalars(
            select(WebhookSubscription).where(owner).order_by(WebhookSubscription.id.desc())
        )
    )


def owned(
    session: DbSession, subscription_id: int, partner_id: int | None, clinic_id: int | None
) -> WebhookSubscription:
    """The owner's subscription, or LookupError: another owner's is as unknown as none."""
    for subscription in subscriptions_of(session, partner_id, clinic_id):
        if subscription.id == subscription_id:
            return subscription
    raise LookupError("no such webhook")


def delivery_log(
    session: DbSession, subscription_id: int, most: int = 100
) -> list[WebhookDelivery]:
    return list(
        session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.subscription_id == subscription_id)
            .order_by(WebhookDelivery.id.desc())
            .limit(most)
        )
    )


def redeliver(
    session: DbSession, subscription: WebhookSubscription, delivery_id: int, actor: audit.Actor
) -> WebhookDelivery:
    """Send one delivery again, with its own `webhook-id` (receivers drop a repeat they
    already took). Asking for it says the endpoint works again: a disabled subscription is
    turned back on."""
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.subscription_id != subscription.id:
        raise LookupError("no such delivery")
    delivery.status, delivery.attempts, delivery.last_error = DeliveryStatus.PENDING, 0, None
    subscription.disabled_at = subscription.failing_since = None
    enqueue_task(session, task_names.DELIVER_WEBHOOK, delivery.id)
    audit.record(
        session,
        actor,
        "webhook.redelivered",
        webhook=subscription.id,
        changes={"delivery": delivery.id},
    )
    session.commit()
    return delivery


def unsubscribe(session: DbSession, subscription: WebhookSubscription, actor: audit.Actor) -> None:
    session.delete(subscription)
    audit.record(session, actor, "webhook.unsubscribed", webhook=subscription.id)
    session.commit()


def emit(
    session: DbSession,
    event: str,
    lead: Lead | LeadRef,
    *,
    clinic_ids: Iterable[int] = (),
    to_partner: bool = True,
    **data: Any,
) -> None:
    """Queue `event` about `lead` for its partner's subscriptions (unless not `to_partner`)
    and those of `clinic_ids`, in the caller's transaction. `data` adds ids or statuses;
    never health data."""
    clinics = set(clinic_ids)
    owners = []
    if lead.partner_id is not None and to_partner:
        owners.append(WebhookSubscription.partner_id == lead.partner_id)
    if clinics:
        owners.append(WebhookSubscription.clinic_id.in_(clinics))
    if not owners:
        return
    subscriptions = session.scalars(
        select(WebhookSubscription).where(WebhookSubscription.disabled_at.is_(None), or_(*owners))
    ).all()
    now = utcnow()
    for subscription in subscriptions:
        if event not in subscription.events:
            continue
        delivery = WebhookDelivery(
            subscription_id=subscription.id,
            message_id=f"msg_{secrets.token_hex(12)}",
            event=event,
            payload={
                "type": event,
                "timestamp": now.isoformat(),
                "data": {"lead_id": lead.id, "reference": lead.reference, **data},
            },
        )
        session.add(delivery)
        session.flush()
        enqueue_task(session, task_names.DELIVER_WEBHOOK, delivery.id)


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 of "id.timestamp.body">` under the secret's key."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def names_private_host(url: str) -> bool:
    """Whether the URL writes its host as an address that is not public (`127.1`, `[::1]`,
    `10.0.0.5`) or as `localhost`: a page refuses it at once, where its owner can correct
    it. It does not resolve names, so `check_destination` remains the guard when sending."""
    try:
        host = (urlsplit(url.strip()).hostname or "").rstrip(".")
    except ValueError:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        try:  # the shorthands a resolver reads as IPv4 too: 127.1, 2130706433, 0x7f000001
            address = ipaddress.ip_address(socket.inet_aton(host))
        except OSError:
            return False
    return not address.is_global


def check_destination(url: str, allow_private: bool) -> None:
    """Every address the host resolves to must be public."""
    host = urlsplit(url).hostname or ""
    try:
        resolved = {str(info[4][0]) for info in socket.getaddrinfo(host, None)}
    except socket.gaierror as exc:
        raise DestinationRefused(f"{host} does not resolve") from exc
    if allow_private:
        return
    for address in resolved:
        if not ipaddress.ip_address(address.split("%")[0]).is_global:
            raise DestinationRefused(f"{host} resolves to a non-public address ({address})")


@dataclass(frozen=True)
class Attempt:
    outcome: Outcome
    retry_in: float = 0.0


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def deliver(
    session: DbSession, delivery_id: int, policy: WebhookPolicy, now: datetime | None = None
) -> Attempt:
    """One attempt, counted and committed before the request (a crash still uses it up)."""
    delivery = session.get(WebhookDelivery, delivery_id, with_for_update=True)
    if delivery is None or delivery.status is not DeliveryStatus.PENDING:
        session.rollback()
        return Attempt(Outcome.SKIPPED)
    subscription = delivery.subscription
    if subscription.disabled_at is not None:
        delivery.status, delivery.last_error = DeliveryStatus.FAILED, "subscription disabled"
        session.commit()
        return Attempt(Outcome.FAILED)
    delivery.attempts += 1
    session.commit()

    try:
        check_destination(subscription.url, policy.allow_private)
        code = _post(subscription, delivery, policy.timeout_seconds, now or utcnow())
    except DestinationRefused as exc:
        return _failed_attempt(session, delivery, str(exc), None, policy, now, final=True)
    except (OSError, urllib.error.URLError) as exc:
        return _failed_attempt(session, delivery, str(exc), None, policy, now)
    if 200 <= code < 300:
        delivery.status, delivery.delivered_at = DeliveryStatus.SENT, utcnow()
        delivery.last_status_code, delivery.last_error = code, None
        subscription.failing_since = None
        session.commit()
        return Attempt(Outcome.SENT)
    return _failed_attempt(session, delivery, f"answered {code}", code, policy, now)


def _post(
    subscription: WebhookSubscription, delivery: WebhookDelivery, timeout: float, now: datetime
) -> int:
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    timestamp = int(now.timestamp())
    request = urllib.request.Request(  # noqa: S310 (the scheme was checked on subscribing)
        subscription.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "CareRoute-Webhooks/1",
            "webhook-id": delivery.message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(subscription.secret, delivery.message_id, timestamp, body),
        },
    )
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def _failed_attempt(
    session: DbSession,
    delivery: WebhookDelivery,
    error: str,
    code: int | None,
    policy: WebhookPolicy,
    now: datetime | None,
    *,
    final: bool = False,
) -> Attempt:
    """Retried with backoff while attempts remain; `final` (a refused destination) or the
    last attempt fails the delivery for good."""
    final = final or delivery.attempts >= policy.max_attempts
    if final:
        delivery.status = DeliveryStatus.FAILED
        log.warning("webhook delivery %s failed: %s", delivery.id, error)
    delivery.last_status_code, delivery.last_error = code, error[:2000]
    _note_failure(session, delivery.subscription, policy, now or utcnow())
    session.commit()
    if final:
        return Attempt(Outcome.FAILED)
    return Attempt(Outcome.RETRY, retry_in=policy.backoff(delivery.attempts))


def _note_failure(
    session: DbSession, subscription: WebhookSubscription, policy: WebhookPolicy, now: datetime
) -> None:
    """A subscription failing since longer than `disable_after` is disabled, its owner told."""
    subscription.failing_since = subscription.failing_since or now
    if (
        subscription.disabled_at is None
        and now - subscription.failing_since >= policy.disable_after
    ):
        subscription.disabled_at = now
        owner = subscription.clinic.email if subscription.clinic else None
        if subscription.partner is not None:
            owner = subscription.partner.contact_email
        queue_email(
            session,
            key=f"webhook-disabled:{subscription.id}:{now.isoformat()}",
            recipient=owner or policy.staff_email,
            template="webhook_disabled",
            context={"subscription_id": subscription.id},
            language=subscription.clinic.language if subscription.clinic else "en",
        )
        audit.record(
            session, audit.Actor.system("webhooks"), "webhook.disabled", webhook=subscription.id
        )
