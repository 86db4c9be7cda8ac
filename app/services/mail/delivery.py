"""Queueing emails in the outbox and delivering them exactly once as far as SMTP allows.

The one window no SMTP client can close: the server accepted the message and the worker
died before marking the row sent. The row is sent again, with the same Message-ID, so the
recipient's mail system can recognise the copy.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any

from sqlalchemy import event, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, SessionTransaction

from app import task_names
from app.models import EmailStatus, OutboundEmail
from app.models.base import DbSession, utcnow
from app.services.mail import messages, smtp
from app.services.outbox import enqueue_task

log = logging.getLogger(__name__)

# What sending an email starts, by template, run in the transaction that marks it sent with
# the email's ids; the domain it belongs to registers it (a clinic's answer clock: deadlines).
AfterSent = Callable[..., None]
_AFTER_SENT: dict[str, AfterSent] = {}


def when_sent(template: str) -> Callable[[AfterSent], AfterSent]:
    def register(listener: AfterSent) -> AfterSent:
        _AFTER_SENT[template] = listener
        return listener

    return register


def queue_email(
    session: DbSession,
    *,
    key: str,
    recipient: str,
    template: str,
    context: dict[str, Any],
    language: str = "en",
    lead_id: int | None = None,
) -> None:
    """Add an email to the caller's transaction, once per idempotency key.

    One INSERT that does nothing when the key exists (no lookup first): a lead's routing
    queues several emails, and each lookup cost as much as the insert. `lead_id` ties the
    email to a lead's timeline (and the console's "email failed" filter).
    """
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    email_id = session.scalar(
        insert(OutboundEmail)
        .values(
            idempotency_key=key,
            recipient=recipient,
            template=template,
            context=context,
            language=language,
            lead_id=lead_id,
        )
        .on_conflict_do_nothing(index_elements=[OutboundEmail.idempotency_key])
        .returning(OutboundEmail.id)
    )
    if email_id is not None and _first_of_its_lead(session, lead_id):
        enqueue_task(session, task_names.SEND_EMAIL, email_id)


# The leads whose emails have a send task in the session's current transaction.
_ANNOUNCED = "careroute.mail.leads_announced"


def _first_of_its_lead(session: DbSession, lead_id: int | None) -> bool:
    """A lead's emails queued in one transaction (a routed lead's clinic notices and the
    patient's confirmation) share the first one's send task, which claims them all."""
    if lead_id is None:
        return True
    announced: set[int] = session.info.setdefault(_ANNOUNCED, set())
    if lead_id in announced:
        return False
    announced.add(lead_id)
    return True


@event.listens_for(Session, "after_transaction_end")
def _forget_announced(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_ANNOUNCED, None)


@dataclass(frozen=True)
class DeliveryPolicy:
    sender: str
    max_attempts: int
    retry_base_seconds: float
    retry_max_seconds: float
    lease_seconds: float
    # Patient emails invite a reply; it goes here, as the sender is a no-reply address.
    reply_to: str | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> DeliveryPolicy:
        return cls(
            sender=config["MAIL_FROM"],
            max_attempts=config["MAIL_MAX_ATTEMPTS"],
            retry_base_seconds=config["MAIL_RETRY_BASE_SECONDS"],
            retry_max_seconds=config["MAIL_RETRY_MAX_SECONDS"],
            # Long enough for a connect and a few reads to time out, so a live send keeps it.
            lease_seconds=config["SMTP_TIMEOUT_SECONDS"] * 6,
            reply_to=config["REPLY_TO"],
        )

    def backoff(self, attempt: int) -> float:
        return backoff(attempt, self.retry_base_seconds, self.retry_max_seconds)


def backoff(attempt: int, base_seconds: float, max_seconds: float) -> float:
    """Seconds before the next attempt: doubling from `base_seconds`, capped at `max_seconds`
    (an email and a webhook wait alike)."""
    return float(min(base_seconds * 2 ** (attempt - 1), max_seconds))


class Outcome(enum.Enum):
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Delivery:
    outcome: Outcome
    retry_in: float | None = None


def message_id(email_id: int, sender: str) -> str:
    """Stable per outbox row, so a resent copy carries the same id."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "careroute.local"
    return f"<careroute-email-{email_id}@{domain}>"


@dataclass(frozen=True)
class Claim:
    """What a worker needs of an outbox row it holds the lease on, read in the claim itself."""

    id: int
    recipient: str
    template: str
    context: dict[str, Any]
    language: str
    attempts: int
    lead_id: int | None


def _claim(session: DbSession, email_id: int, policy: DeliveryPolicy, now: datetime) -> list[Claim]:
    """Take the lease and count the attempt in one conditional UPDATE, so two copies of the
    task never both send and no row is loaded, locked and flushed separately: this email's,
    and those of the other emails of its lead that are due, which go out with it."""
    lead_of_email = select(OutboundEmail.lead_id).where(OutboundEmail.id == email_id)
    rows = session.execute(
        update(OutboundEmail)
        .where(
            or_(
                OutboundEmail.id == email_id,
                (OutboundEmail.lead_id == lead_of_email.scalar_subquery())
                & (OutboundEmail.next_attempt_at <= now),
            ),
            OutboundEmail.attempts < policy.max_attempts,
            or_(
                OutboundEmail.status == EmailStatus.PENDING,
                (OutboundEmail.status == EmailStatus.SENDING)
                & or_(OutboundEmail.lease_until.is_(None), OutboundEmail.lease_until <= now),
            ),
        )
        .values(
            attempts=OutboundEmail.attempts + 1,
            status=EmailStatus.SENDING,
            lease_until=now + timedelta(seconds=policy.lease_seconds),
        )
        .returning(
            OutboundEmail.id,
            OutboundEmail.recipient,
            OutboundEmail.template,
            OutboundEmail.context,
            OutboundEmail.language,
            OutboundEmail.attempts,
            OutboundEmail.lead_id,
        )
        .execution_options(synchronize_session=False)
    ).all()
    return sorted((Claim(*row) for row in rows), key=lambda claim: claim.id)


def _settle(session: DbSession, email_ids: list[int], **values: Any) -> None:
    session.execute(
        update(OutboundEmail)
        .where(OutboundEmail.id.in_(email_ids))
        .values(lease_until=None, **values)
        .execution_options(synchronize_session=False)
    )


def deliver(
    session: DbSession,
    email_id: int,
    settings: smtp.SmtpSettings,
    policy: DeliveryPolicy,
    now: datetime | None = None,
) -> Delivery:
    """Send an outbox email if it still needs sending, with its lead's other emails that
    are due (a routed lead's clinic notices and the patient's confirmation go out over one
    SMTP connection, claimed and settled in one statement each). The outcome is the task's
    to act on: RETRY when any of them is worth another try.

    The attempts are counted and committed before talking to the server: a message that
    crashes its worker every time still runs out of attempts instead of looping forever.
    """
    now = now or utcnow()
    claims = _claim(session, email_id, policy, now)
    if not claims:
        return _unclaimed(session, email_id, policy, now)
    session.commit()

    ready, failures = _messages(session, claims, policy)
    sent_to_server = smtp.send_all(settings, [message for _, message in ready])
    failures.update(
        {claim.id: failure for (claim, _), failure in zip(ready, sent_to_server, strict=True)}
    )
    return _settle_all(session, email_id, claims, failures, policy)


def _messages(
    session: DbSession, claims: list[Claim], policy: DeliveryPolicy
) -> tuple[list[tuple[Claim, EmailMessage]], dict[int, Exception | None]]:
    """Each claimed email built, or why it cannot be. The claimed leads, their clinics and
    assignments are read once for all of them; `leads` keeps them referenced until the last
    message is built, as the session holds a loaded row only while something refers to it."""
    leads = messages.load_leads(session, {c.lead_id for c in claims if c.lead_id is not None})
    failures: dict[int, Exception | None] = {}
    ready: list[tuple[Claim, EmailMessage]] = []
    for claim in claims:
        try:
            ready.append((claim, _message(session, claim, policy)))
        except (messages.MissingSubject, smtp.HeaderInjection) as exc:
            failures[claim.id] = exc
    del leads
    return ready, failures


def _message(session: DbSession, claim: Claim, policy: DeliveryPolicy) -> EmailMessage:
    rendered = messages.render(session, claim.template, claim.context, claim.language)
    return smtp.build_message(
        sender=policy.sender,
        recipient=claim.recipient,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        message_id=message_id(claim.id, policy.sender),
        reply_to=policy.reply_to if rendered.for_patient else None,
    )


def _settle_all(
    session: DbSession,
    email_id: int,
    claims: list[Claim],
    failures: dict[int, Exception | None],
    policy: DeliveryPolicy,
) -> Delivery:
    """Record each email's outcome and what its sending starts, in one commit."""
    sent_at = utcnow()
    sent = [claim for claim in claims if failures.get(claim.id) is None]
    if sent:
        _settle(session, [c.id for c in sent], status=EmailStatus.SENT, sent_at=sent_at)
    for claim in sent:
        listener = _AFTER_SENT.get(claim.template)
        if listener is not None:
            listener(session, sent_at=sent_at, **claim.context)
    delays = []
    for claim in claims:
        failure = failures.get(claim.id)
        if failure is None:
            continue
        error = str(failure)[:2000]
        if isinstance(failure, smtp.TransientSendError) and claim.attempts < policy.max_attempts:
            delay = policy.backoff(claim.attempts)
            retry_at = sent_at + timedelta(seconds=delay)
            _settle(
                session,
                [claim.id],
                status=EmailStatus.PENDING,
                last_error=error,
                next_attempt_at=retry_at,
            )
            delays.append(delay)
            log.warning(
                "email %s attempt %d failed, retry in %.1fs", claim.id, claim.attempts, delay
            )
        else:
            _settle(session, [claim.id], status=EmailStatus.FAILED, last_error=error)
            log.error("email %s failed for good: %s", claim.id, error)
    session.commit()
    for claim in sent:
        log.info("email %s (%s) sent", claim.id, claim.template)
    if delays:
        return Delivery(Outcome.RETRY, retry_in=min(delays))
    if all(claim.id != email_id for claim in claims):  # only its lead's other emails went
        return Delivery(Outcome.SKIPPED)
    return Delivery(Outcome.SENT if failures.get(email_id) is None else Outcome.FAILED)


def _unclaimed(
    session: DbSession, email_id: int, policy: DeliveryPolicy, now: datetime
) -> Delivery:
    """The claim matched nothing: the row is gone, settled, leased to a live send, or out of
    attempts (then it fails for good)."""
    email = session.get(OutboundEmail, email_id, with_for_update=True)
    if email is None:
        log.info("email %s is gone, nothing to send", email_id)
    elif email.status in (EmailStatus.SENT, EmailStatus.FAILED) or (
        email.status is EmailStatus.SENDING and email.lease_until and email.lease_until > now
    ):
        pass
    elif email.attempts >= policy.max_attempts:
        return _fail(session, email.id, email.last_error or "gave up: no attempts left")
    session.rollback()
    return Delivery(Outcome.SKIPPED)


def _fail(session: DbSession, email_id: int, error: str) -> Delivery:
    _settle(session, [email_id], status=EmailStatus.FAILED, last_error=error[:2000])
    session.commit()
    log.error("email %s failed for good: %s", email_id, error)
    return Delivery(Outcome.FAILED)
