"""Talking to the mail server: building a safe message and sending it with timeouts, on a
connection kept open between sends."""

from __future__ import annotations

import smtplib
import ssl
import time
from dataclasses import dataclass
from email import policy
from email.headerregistry import Address, BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.utils import formataddr, formatdate, parseaddr
from urllib.parse import parse_qs, unquote, urlsplit


class HeaderInjection(ValueError):
    """A header value carried a line break: it could have added a recipient or a header."""


class PermanentSendError(Exception):
    """The server refused for good (5xx): retrying cannot help."""


class TransientSendError(Exception):
    """A timeout, a dropped connection or a 4xx reply: worth another try later."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    username: str | None
    password: str | None
    use_ssl: bool
    starttls: bool
    timeout: float

    @classmethod
    def from_url(cls, url: str, timeout: float) -> SmtpSettings:
        """Parse `smtp://user:pass@host:587?starttls=1` or `smtps://host:465`."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError(f"SMTP_URL must start with smtp:// or smtps://, got {url!r}")
        query = parse_qs(parts.query)
        use_ssl = parts.scheme == "smtps"
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or (465 if use_ssl else 25),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            use_ssl=use_ssl,
            starttls=query.get("starttls", ["0"])[0] in ("1", "true", "yes"),
            timeout=timeout,
        )


def _checked(value: str) -> str:
    if any(ch in value for ch in "\r\n\0"):
        raise HeaderInjection(f"line break in header value {value!r}")
    return value


class _HeaderClasses(HeaderRegistry):
    """The standard header registry, keeping the class it makes for each header name: the
    stock one makes a new class at every lookup, which was a third of building a message."""

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        made = self._made.get(name)
        if made is None:
            made = self._made[name] = super().__getitem__(name)
        return made


_POLICY = policy.default.clone(header_factory=_HeaderClasses())


def build_message(
    *,
    sender: str,
    recipient: str,
    subject: str,
    text: str,
    html: str,
    message_id: str,
    reply_to: str | None = None,
) -> EmailMessage:
    """A multipart text + HTML message whose headers cannot be split by a name or address.

    `reply_to` is for mail whose reader may answer: the sender is a no-reply address.
    """
    message = EmailMessage(policy=_POLICY)
    sender_name, sender_address = parseaddr(_checked(sender))
    message["From"] = formataddr((sender_name, sender_address))
    if reply_to:
        message["Reply-To"] = formataddr(parseaddr(_checked(reply_to)))
    message["To"] = Address(addr_spec=_checked(recipient))
    message["Subject"] = _checked(subject)
    message["Message-ID"] = _checked(message_id)
    # RFC 5322 requires it, and mail filters mark a message without it; built just before
    # the send, so it is the time of this attempt.
    message["Date"] = formatdate(usegmt=True)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


# Connections kept open between sends, per process: connecting, greeting and quitting
# cost as much as sending the message. One idle longer than IDLE_SECONDS is closed rather
# than used (servers drop idle clients; RFC 5321 asks them to wait at least 5 minutes).
IDLE_SECONDS = 30.0
_idle: dict[SmtpSettings, list[tuple[smtplib.SMTP, float]]] = {}


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    if settings.use_ssl:
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.host,
            settings.port,
            timeout=settings.timeout,
            context=ssl.create_default_context(),
        )
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    try:
        if settings.starttls:
            client.starttls(context=ssl.create_default_context())
        if settings.username:
            client.login(settings.username, settings.password or "")
    except BaseException:
        _close(client)
        raise
    return client


def _close(client: smtplib.SMTP) -> None:
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()


def _kept(settings: SmtpSettings) -> smtplib.SMTP | None:
    """A kept connection that still answers (the server may have dropped it while idle)."""
    kept = _idle.get(settings)
    while kept:
        client, since = kept.pop()
        if time.monotonic() - since <= IDLE_SECONDS and _answers(client):
            return client
        client.close()
    return None


def _answers(client: smtplib.SMTP) -> bool:
    try:
        return bool(client.noop()[0] == 250)
    except (smtplib.SMTPException, OSError):
        return False


def send(settings: SmtpSettings, message: EmailMessage) -> None:
    """Send one message; classify every failure as transient or permanent.

    The timeout covers the connect and every read, so a server that accepts the connection
    and never answers costs one timeout, not a stuck worker.
    """
    [failure] = send_all(settings, [message])
    if failure is not None:
        raise failure


SendFailure = TransientSendError | PermanentSendError


def send_all(settings: SmtpSettings, messages: list[EmailMessage]) -> list[SendFailure | None]:
    """Send messages one after another on one connection (kept for the next call); for each,
    None when the server accepted it, else why not. A failure closes the connection, as the
    server may be in any state, and the next message opens a new one."""
    failures: list[SendFailure | None] = []
    client: smtplib.SMTP | None = None
    for message in messages:
        try:
            client = client or _kept(settings) or _connect(settings)
            client.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            if client is not None:
                _close(client)
                client = None
            failure = _classified(exc)
            failure.__cause__ = exc
            failures.append(failure)
            continue
        except BaseException:
            if client is not None:
                _close(client)
            raise
        failures.append(None)
    if client is not None:
        _idle.setdefault(settings, []).append((client, time.monotonic()))
    return failures


def _classified(exc: smtplib.SMTPException | OSError) -> SendFailure:
    """5xx is final; 4xx, a dropped connection or a timeout is worth another try."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        refused = f"recipient refused: {exc.recipients}"
        if all(code >= 500 for code in codes):
            return PermanentSendError(refused)
        return TransientSendError(refused)
    if isinstance(exc, smtplib.SMTPResponseException):
        error = f"{exc.smtp_code} {exc.smtp_error!r}"
        if exc.smtp_code >= 500:
            return PermanentSendError(error)
        return TransientSendError(error)
    return TransientSendError(f"{type(exc).__name__}: {exc}")
