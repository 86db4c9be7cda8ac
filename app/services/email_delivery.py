"""Queueing emails in the outbox and delivering them exactly once as far as SMTP allows.

The one window no SMTP client can close: the server accepted the message and the worker
died before marking the row sent. The row is sent again, with the same Message-ID, so the
recipient's mail system can recognise the copy.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import EmailStatus, OutboundEmail
from app.models.base import utcnow
from app.services import email_templates, smtp
from app.services.outbox import enqueue_task

log = logging.getLogger(__name__)


def queue_email(
    session: Session,
    *,
    key: str,
    recipient: str,
    template: str,
    context: dict[str, Any],
    language: str = "en",
    lead_id: int | None = None,
) -> OutboundEmail:
    """Add an email to the caller's transaction, once per idempotency key.

    `lead_id` ties the email to a lead's timeline (and the console's "email failed" filter).
    """
    existing = session.scalar(select(OutboundEmail).where(OutboundEmail.idempotency_key == key))
    if existing is not None:
        return existing
    email = OutboundEmail(
        idempotency_key=key,
        recipient=recipient,
        template=template,
        context=context,
        language=language,
        lead_id=lead_id,
    )
    session.add(email)
    session.flush()
    enqueue_task(session, "mail.send", email.id)
    return email


@dataclass(frozen=True)
class DeliveryPolicy:
    sender: str
    max_attempts: int
    retry_base_seconds: float
    retry_max_seconds: float
    lease_seconds: float

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> DeliveryPolicy:
        return cls(
            sender=config["MAIL_FROM"],
            max_attempts=config["MAIL_MAX_ATTEMPTS"],
            retry_base_seconds=config["MAIL_RETRY_BASE_SECONDS"],
            retry_max_seconds=config["MAIL_RETRY_MAX_SECONDS"],
            # Long enough for a connect and a few reads to time out, so a live send keeps it.
            lease_seconds=config["SMTP_TIMEOUT_SECONDS"] * 6,
        )

    def backoff(self, attempt: int) -> float:
        return min(self.retry_base_seconds * 2 ** (attempt - 1), self.retry_max_seconds)


class Outcome(enum.Enum):
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Delivery:
    outcome: Outcome
    retry_in: float | None = None


def message_id(email: OutboundEmail, sender: str) -> str:
    """Stable per outbox row, so a resent copy carries the same id."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "careroute.local"
    return f"<careroute-email-{email.id}@{domain}>"


def deliver(
    session: Session,
    email_id: int,
    settings: smtp.SmtpSettings,
    policy: DeliveryPolicy,
    now: datetime | None = None,
) -> Delivery:
    """Send one outbox email if it still needs sending.

    The attempt is counted and committed before talking to the server: a message that
    crashes its worker every time still runs out of attempts instead of looping forever.
    """
    now = now or utcnow()
    email = session.get(OutboundEmail, email_id, with_for_update=True)
    if email is None:
        log.info("email %s is gone, nothing to send", email_id)
        return Delivery(Outcome.SKIPPED)
    if email.status in (EmailStatus.SENT, EmailStatus.FAILED):
        session.rollback()
        return Delivery(Outcome.SKIPPED)
    if email.status is EmailStatus.SENDING and email.lease_until and email.lease_until > now:
        session.rollback()
        return Delivery(Outcome.SKIPPED)
    if email.attempts >= policy.max_attempts:
        return _fail(session, email, email.last_error or "gave up: no attempts left")

    email.attempts += 1
    email.status = EmailStatus.SENDING
    email.lease_until = now + timedelta(seconds=policy.lease_seconds)
    session.commit()

    try:
        rendered = email_templates.render(session, email)
        message = smtp.build_message(
            sender=policy.sender,
            recipient=email.recipient,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            message_id=message_id(email, policy.sender),
        )
        smtp.send(settings, message)
    except (email_templates.MissingSubject, smtp.HeaderInjection, smtp.PermanentSendError) as exc:
        return _fail(session, email, str(exc))
    except smtp.TransientSendError as exc:
        if email.attempts >= policy.max_attempts:
            return _fail(session, email, str(exc))
        delay = policy.backoff(email.attempts)
        email.status = EmailStatus.PENDING
        email.lease_until = None
        email.last_error = str(exc)
        email.next_attempt_at = utcnow() + timedelta(seconds=delay)
        session.commit()
        log.warning("email %s attempt %d failed, retry in %.1fs", email.id, email.attempts, delay)
        return Delivery(Outcome.RETRY, retry_in=delay)

    email.status = EmailStatus.SENT
    email.sent_at = utcnow()
    email.lease_until = None
    email_templates.record_sent(session, email, email.sent_at)
    session.commit()
    log.info("email %s (%s) sent", email.id, email.template)
    return Delivery(Outcome.SENT)


def _fail(session: Session, email: OutboundEmail, error: str) -> Delivery:
    email.status = EmailStatus.FAILED
    email.lease_until = None
    email.last_error = error[:2000]
    session.commit()
    log.error("email %s failed for good: %s", email.id, error)
    return Delivery(Outcome.FAILED)
