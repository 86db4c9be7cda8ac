"""A real SMTP server on loopback (aiosmtpd) whose replies a test can script.

`replies` holds DATA replies to give before accepting ("451 4.3.0 Try later"); `hold_rcpt`
and `hold_data` make the server wait on an event at that step, so a test can kill a worker
at a known point of a send.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import deque
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

from aiosmtpd.controller import Controller

from app.services.mail import smtp


def settings_for(url: str, timeout: float = 2.0) -> smtp.SmtpSettings:
    """What the sender connects with to the server at `url`, with a short timeout."""
    return smtp.SmtpSettings.from_url(url, timeout=timeout)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ScriptedHandler:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.greetings = 0  # one per connection: the client's EHLO
        self.replies: deque[str] = deque()
        self.attempts = 0
        self.hold_rcpt: threading.Event | None = None
        self.hold_data: threading.Event | None = None
        # Recipients for whom the server goes silent after RCPT (the client must time out).
        self.stall_rcpts: set[str] = set()
        self.stalled = 0
        self.closing = threading.Event()
        self.waiting = threading.Event()
        self.lock = threading.Lock()

    async def handle_EHLO(  # noqa: N802 (aiosmtpd hook name)
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        self.greetings += 1
        session.host_name = hostname  # what aiosmtpd does itself when there is no hook
        return responses

    async def handle_RCPT(  # noqa: N802 (aiosmtpd hook name)
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if self.hold_rcpt is not None:
            self.waiting.set()
            await _wait(self.hold_rcpt)
        if address in self.stall_rcpts:
            self.stalled += 1
            await _wait(self.closing)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 (aiosmtpd hook name)
        self, server: Any, session: Any, envelope: Any
    ) -> str:
        with self.lock:
            self.attempts += 1
            if self.replies:
                return self.replies.popleft()
            self.messages.append(
                message_from_bytes(envelope.content, policy=default_policy)  # type: ignore[arg-type]
            )
        if self.hold_data is not None:
            self.waiting.set()
            await _wait(self.hold_data)
        return "250 Message accepted for delivery"


async def _wait(event: threading.Event) -> None:
    while not event.is_set():
        await asyncio.sleep(0.05)


class SmtpServer:
    def __init__(self, port: int | None = None) -> None:
        self.handler = ScriptedHandler()
        self.port = port or free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def messages(self) -> list[EmailMessage]:
        return list(self.handler.messages)

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        """Close the server and every connection to it (again: nothing more happens)."""
        if self.handler.closing.is_set():
            return
        self.handler.closing.set()
        self.controller.stop()

    def wait_for(self, count: int, timeout: float = 30.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.handler.messages) >= count:
                return self.messages
            time.sleep(0.05)
        raise AssertionError(
            f"expected {count} messages, got {len(self.handler.messages)}: "
            f"{[m['Subject'] for m in self.handler.messages]}"
        )


class SilentServer:
    """Accepts TCP connections and never says a word: the server that stalls clients."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = int(self.sock.getsockname()[1])

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.sock.close()
