"""The outbox relay process: publishes committed outbox rows within a fraction of a second."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from flask import Flask

from app.extensions import db
from app.services.outbox import relay
from app.task_queue import celery_publisher

log = logging.getLogger(__name__)

MAX_BROKER_BACKOFF_SECONDS = 5.0


def run_relay(app: Flask, stop: threading.Event, once: bool = False) -> int:
    """Poll and publish until `stop` is set; back off while the broker is down."""
    poll = app.config["RELAY_POLL_SECONDS"]
    celery_app = app.extensions["celery"]
    delay, total = poll, 0
    while not stop.is_set():
        with app.app_context():
            result = relay(db.session, lambda: celery_publisher(celery_app))
        total += result.published
        if once:
            break
        delay = min(delay * 2, MAX_BROKER_BACKOFF_SECONDS) if result.waiting else poll
        if not result.published or result.waiting:
            stop.wait(delay)
    return total


def stop_on_signals(stop: threading.Event) -> None:
    def _handler(signum: int, _frame: FrameType | None) -> None:
        log.info("relay stopping on signal %d", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _handler)
    signal.signal(signal.SIGINT, _handler)
