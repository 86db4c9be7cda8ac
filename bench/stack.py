"""The whole stack on loopback, as production runs it: gunicorn (2 sync workers), the outbox
relay, one Celery worker, Redis, PostgreSQL, and an aiosmtpd sink that notes when each
message arrives."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from email.header import decode_header, make_header
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

import redis
from aiosmtpd.controller import Controller

from bench.ceiling import create_bench_table
from bench.common import REDIS_URL, settings

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Arrival:
    at: float  # time.time()
    subject: str
    recipient: str
    message_id: str


class Sink:
    """Accepts every message and notes its arrival time, subject and recipient."""

    def __init__(self) -> None:
        self.arrivals: list[Arrival] = []
        self._lock = threading.Lock()
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        # Only the headers are read: parsing the parts would take CPU from the worker
        # being measured, on the same two cores.
        message = BytesHeaderParser().parsebytes(envelope.content)
        with self._lock:
            self.arrivals.append(
                Arrival(
                    time.time(),
                    # Decoded: a subject in Russian goes as one base64 encoded word,
                    # the lead's reference inside it.
                    str(make_header(decode_header(message["Subject"]))),
                    envelope.rcpt_tos[0],
                    str(message["Message-ID"]),
                )
            )
        return "250 OK"

    def __enter__(self) -> Sink:
        self._controller.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._controller.stop()

    def snapshot(self) -> list[Arrival]:
        with self._lock:
            return list(self.arrivals)


class Stack:
    def __init__(self, database_url: str, workdir: Path, sink: Sink) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.workdir = workdir
        self.env = {
            **os.environ,
            **settings(
                database_url,
                CELERY_BROKER_URL=REDIS_URL,
                RATELIMIT_STORAGE_URI=REDIS_URL,
                SMTP_URL=f"smtp://127.0.0.1:{sink.port}",
                BASE_URL=self.base,
                RELAY_POLL_SECONDS="0.02",
                UPLOAD_DIR=str(workdir / "uploads"),
                MAILCATCHER_DIR=str(workdir / "devmail"),
            ),
            "PYTHONPATH": str(REPO),
        }
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        redis.Redis.from_url(REDIS_URL).flushdb()

    def _spawn(self, name: str, args: list[str]) -> None:
        log = (self.workdir / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", *args],
            cwd=REPO,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_web(self) -> None:
        create_bench_table(self.env["DATABASE_URL"])
        self._spawn(
            "web",
            [
                "gunicorn",
                "--workers",
                "2",
                "--bind",
                f"127.0.0.1:{self.port}",
                "bench.ceiling:create_bench_app()",
            ],
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.base}/healthz", timeout=2)
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not start: {self.log('web')}")

    def start_relay(self) -> None:
        self._spawn("relay", ["flask", "--app", "app", "outbox", "relay"])

    def start_worker(self, concurrency: int = 1, name: str = "worker") -> float:
        """Start a worker (`name` tells several apart: their processes, logs and node names);
        return when it said it was ready (time.time()), read off its log."""
        earlier = self.log(name).count(" ready.")
        self._spawn(
            name,
            [
                "celery",
                "-A",
                "bench.worker",
                "worker",
                f"--concurrency={concurrency}",
                f"--hostname={name}@%h",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
        )
        deadline = time.monotonic() + 60
        while self.log(name).count(" ready.") == earlier:
            if time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start: {self.log(name)}")
            time.sleep(0.1)
        stamp = re.findall(
            r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}).* ready\.$", self.log(name), re.M
        )[-1]
        return datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").timestamp()

    def stop(self, name: str) -> None:
        process = self.processes.pop(name, None)
        if process and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.stop(name)

    def log(self, name: str) -> str:
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""
