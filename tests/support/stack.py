"""Driving and watching the real stack in integration tests: a `celery worker` process,
PostgreSQL emptied between tests, the outbox read afresh, waiting for what happens elsewhere."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select, text

from app.extensions import db
from app.models import OutboundEmail
from app.relay import run_relay

PG_ADMIN_URL = os.environ.get("CAREROUTE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A loopback port nothing listens on, for a server a test starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def truncate_all() -> None:
    """Every table emptied except the procedure catalogue, ids restarting at 1."""
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables if t.name != "procedures")
    db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db.session.commit()


class WorkerProcess:
    """`celery -A workers worker` as its own process group, killable like a crashed host."""

    def __init__(
        self,
        settings: dict[str, str],
        log_path: Path,
        *,
        concurrency: int = 2,
        name: str = "celery",
    ) -> None:
        self.settings = settings
        self.log_path = log_path
        self.concurrency = concurrency
        self.name = name  # its node name: several workers on one host need their own
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> WorkerProcess:
        return self.launch().wait_ready(timeout)

    def launch(self) -> WorkerProcess:
        """Start the process without waiting for it, so several can start together."""
        env = {**os.environ, **self.settings, "PYTHONUNBUFFERED": "1"}
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "workers",
                "worker",
                "--loglevel=INFO",
                f"--concurrency={self.concurrency}",
                f"--hostname={self.name}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def wait_ready(self, timeout: float = 30.0) -> WorkerProcess:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in self.log_path.read_text(errors="replace").split("--- restart ---")[-1]:
                return self
            if self.process.poll() is not None:
                raise AssertionError(f"worker exited:\n{self.log()}")
            time.sleep(0.1)
        raise AssertionError(f"worker not ready in {timeout}s:\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL the whole process group: no graceful shutdown, no acknowledgements."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        with self.log_path.open("a") as log:
            log.write("\n--- restart ---\n")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def wait_until(condition: Any, timeout: float = 30.0, message: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {message}")


def emails() -> list[OutboundEmail]:
    """Every outbox email in order, read afresh: the worker changes them behind the session."""
    db.session.expire_all()
    return list(db.session.scalars(select(OutboundEmail).order_by(OutboundEmail.id)))


@contextmanager
def relay_running(app: Flask) -> Iterator[None]:
    """The outbox relay running beside the test, as `flask outbox relay` runs beside web."""
    stop = threading.Event()
    thread = threading.Thread(target=run_relay, args=(app, stop), daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(10)
