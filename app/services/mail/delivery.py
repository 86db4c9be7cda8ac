"""Queueing emails in the outbox and delivering them exactly once as far as SMTP allows.

The one window no SMTP client can close: the server accepted the message and the worker
died before marking the row sent. The row is sent again, with the same Message-ID, so the
recipient's mail system can recognise the copy.
"""

from __future__ import annotations

import enum
import functools
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import Message
from email.utils import parseaddr
from typing import Any

from sqlalchemy import Insert, Update, bindparam, event, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, SessionTransaction

from app import task_names
from app.models import EmailStatus, OutboundEmail
from app.models.base import DbSession, utcnow
from app.services.mail import messages, smtp
from app.services.outbox import enqueue_task

log = logging.getLogger(__name__)

# What sending emails starts, by template, run in the transaction that marks them sent with
# the time and the contexts (ids) of those sent; the domain it belongs to registers it (a
# clinic's answer clock: deadlines). One call for all of a batch's emails of that template.
AfterSent = Callable[[DbSession, datetime, list[dict[str, Any]]], None]
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
    row = {
        "idempotency_key": key,
        "recipient": recipient,
        "template": template,
        "context": context,
        "language": language,
        "lead_id": lead_id,
    }
    claiming: list[dict[str, Any]] | None = session.info.get(_CLAIMING)
    if claiming is not None:
        claiming.append(row)
        return
    email_id = session.scalar(_insert_new(session, [row]).returning(OutboundEmail.id))
    if email_id is not None and _first_of_its_lead(session, lead_id):
        enqueue_task(session, task_names.SEND_EMAIL, email_id)


def _insert_new(session: DbSession, rows: list[dict[str, Any]]) -> Insert:
    """The rows whose idempotency key is new; the others are left as they are."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    return (
        insert(OutboundEmail)
        .values(rows)
        .on_conflict_do_nothing(index_elements=[OutboundEmail.idempotency_key])
    )


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


# Where `queue_email` collects the rows of a `sent_after_commit` block.
_CLAIMING = "careroute.mail.claiming"


@dataclass
class Outgoing:
    """Claimed emails, each built into its message or with the reason it cannot be."""

    claims: list[Claim] = field(default_factory=list)
    ready: list[tuple[Claim, Message]] = field(default_factory=list)
    failures: dict[int, Exception | None] = field(default_factory=dict)

    def build(self, session: DbSession, claims: list[Claim], policy: DeliveryPolicy) -> None:
        """An email that cannot be built fails alone. Routing builds its lead's emails in
        its own transaction, so a bug in one template must not undo the routing: any error
        but the database's (which has spoilt the transaction anyway) fails that email for
        good, with its traceback in the log, where a retry would only meet it again."""
        self.claims.extend(claims)
        for claim in claims:
            try:
                self.ready.append((claim, _message(session, claim, policy)))
            except (messages.MissingSubject, smtp.HeaderInjection) as exc:
                self.failures[claim.id] = exc
            except SQLAlchemyError:
                raise
            except Exception as exc:
                log.exception("email %s (%s) could not be built", claim.id, claim.template)
                self.failures[claim.id] = exc


@contextmanager
def sent_after_commit(session: DbSession, policy: DeliveryPolicy | None) -> Iterator[Outgoing]:
    """Emails queued in the block are written in one statement as it ends, already claimed
    by the caller (leased, their first attempt counted) and built from the objects the
    transaction has loaded, with no send task: the caller sends them once its transaction
    commits (`send_outgoing`). That saves a task round trip, a claim, a commit and loading
    the lead again per routed lead. A worker killed before the send leaves them leased;
    once the lease runs out the sweeper queues them like any stuck email.

    Without a policy the block changes nothing: emails are queued with their send task."""
    outgoing = Outgoing()
    if policy is None:
        yield outgoing
        return
    rows: list[dict[str, Any]] = []
    session.info[_CLAIMING] = rows
    try:
        yield outgoing
    finally:
        del session.info[_CLAIMING]
    if not rows:
        return
    lease = {
        "status": EmailStatus.SENDING,
        "attempts": 1,
        "lease_until": utcnow() + timedelta(seconds=policy.lease_seconds),
    }
    written = dict(
        session.execute(
            _insert_new(session, [{**row, **lease} for row in rows]).returning(
                OutboundEmail.idempotency_key, OutboundEmail.id
            )
        ).all()
    )
    claims = [
        Claim(
            id=written[row["idempotency_key"]],
            recipient=row["recipient"],
            template=row["template"],
            context=row["context"],
            language=row["language"],
            attempts=1,
            lead_id=row["lead_id"],
        )
        for row in rows
        if row["idempotency_key"] in written
    ]
    outgoing.build(session, claims, policy)


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
        _settling(tuple(sorted(values))),
        {"email_ids": email_ids, **{f"new_{name}": value for name, value in values.items()}},
    )


@functools.cache
def _settling(columns: tuple[str, ...]) -> Update:
    """Built once for each set of columns an outcome writes, as every lead's emails are
    settled: building the statement cost as much as running it."""
    return (
        update(OutboundEmail)
        .where(OutboundEmail.id.in_(bindparam("email_ids", expanding=True)))
        .values(lease_until=None, **{name: bindparam(f"new_{name}") for name in columns})
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
    # The claimed leads, their clinics and assignments read once for all the messages;
    # `leads` keeps them referenced until the last is built, as the session holds a loaded
    # row only while something refers to it.
    leads = messages.load_leads(session, {c.lead_id for c in claims if c.lead_id is not None})
    outgoing = Outgoing()
    outgoing.build(session, claims, policy)
    del leads
    return _send(session, email_id, outgoing, settings, policy)


def send_outgoing(
    session: DbSession, outgoing: Outgoing, settings: smtp.SmtpSettings, policy: DeliveryPolicy
) -> Delivery:
    """Send what a committed `sent_after_commit` block built, as `deliver` sends its claims.
    On RETRY, a send task for the first of them retries them all (a lead's due emails go
    out together)."""
    return _send(session, outgoing.claims[0].id, outgoing, settings, policy)


def _send(
    session: DbSession,
    email_id: int,
    outgoing: Outgoing,
    settings: smtp.SmtpSettings,
    policy: DeliveryPolicy,
) -> Delivery:
    sent_to_server = smtp.send_all(settings, [message for _, message in outgoing.ready])
    failures = {
        **outgoing.failures,
        **{claim.id: f for (claim, _), f in zip(outgoing.ready, sent_to_server, strict=True)},
    }
    return _settle_all(session, email_id, outgoing.claims, failures, policy)


def _message(session: DbSession, claim: Claim, policy: DeliveryPolicy) -> Message:
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
    for template, listener in _AFTER_SENT.items():
        contexts = [claim.context for claim in sent if claim.template == template]
        if contexts:
            listener(session, sent_at, contexts)
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
