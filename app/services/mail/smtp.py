"""Talking to the mail server: building a safe message and sending it with timeouts, on a
connection kept open between sends."""

from __future__ import annotations

import secrets
import smtplib
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, parseaddr
from typing import Any
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
    def from_config(cls, config: Mapping[str, Any]) -> SmtpSettings:
        return cls.from_url(config["SMTP_URL"], timeout=config["SMTP_TIMEOUT_SECONDS"])

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


def build_message(
    *,
    sender: str,
    recipient: str,
    subject: str,
    text: str,
    html: str,
    message_id: str,
    reply_to: str | None = None,
) -> Message:
    """A multipart text + HTML message whose headers cannot be split by a name or address.

    Built with the `email` package's compat32 classes: the modern `EmailMessage` parses
    and refolds every header through its header registry, which cost 1.3 ms a message
    against 0.5 (bench/README.md); every value here is checked or encoded by us instead.
    `reply_to` is for mail whose reader may answer: the sender is a no-reply address.
    """
    # Our own boundary: without one the generator makes one up and compiles a regular
    # expression per message to prove it absent from the parts. Both parts are base64,
    # whose alphabet has no "-", so no line of theirs can start with "--" and match it.
    message = MIMEMultipart("alternative", boundary=f"careroute-{secrets.token_hex(16)}")
    message["From"] = formataddr(parseaddr(_checked(sender)), "utf-8")
    if reply_to:
        message["Reply-To"] = formataddr(parseaddr(_checked(reply_to)), "utf-8")
    message["To"] = _checked(recipient)
    # Anything but ASCII as a UTF-8 encoded word (a subject in Thai); compat32 takes a
    # `Header` there, which typeshed's `Message[str, str]` does not know.
    checked = _checked(subject)
    message["Subject"] = checked if checked.isascii() else Header(checked, "utf-8")  # type: ignore[assignment]
    message["Message-ID"] = _checked(message_id)
    # RFC 5322 requires it, and mail filters mark a message without it; built just before
    # the send, so it is the time of this attempt.
    message["Date"] = formatdate(usegmt=True)
    message.attach(MIMEText(text, "plain", "utf-8"))
    message.attach(MIMEText(html, "html", "utf-8"))
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


def send(settings: SmtpSettings, message: Message) -> None:
    """Send one message; classify every failure as transient or permanent.

    The timeout covers the connect and every read, so a server that accepts the connection
    and never answers costs one timeout, not a stuck worker.
    """
    [failure] = send_all(settings, [message])
    if failure is not None:
        raise failure


SendFailure = TransientSendError | PermanentSendError


def send_all(settings: SmtpSettings, messages: list[Message]) -> list[SendFailure | None]:
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
