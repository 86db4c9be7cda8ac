"""The outbox relay process: publishes committed outbox rows within a fraction of a second."""

from __future__ import annotations

import logging
import threading

from celery import Celery
from flask import Flask
from sqlalchemy.exc import OperationalError

from app.extensions import db
from app.services.outbox import RelayResult, relay
from app.task_queue import celery_publisher

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 5.0


def run_relay(app: Flask, stop: threading.Event, once: bool = False) -> int:
    """Poll and publish until `stop` is set; back off while the broker or the database is
    down. The rows wait in the outbox meanwhile, so waiting loses nothing, where exiting
    stopped the whole `make run` process set and left production to its supervisor."""
    poll = app.config["RELAY_POLL_SECONDS"]
    celery_app = app.extensions["celery"]
    delay, total = poll, 0
    while not stop.is_set():
        result = _relay_once(app, celery_app)
        published = result.published if result else 0
        stalled = result is None or result.waiting > 0
        total += published
        if once:
            break
        delay = min(delay * 2, MAX_BACKOFF_SECONDS) if stalled else poll
        if stalled or not published:
            stop.wait(delay)
    return total


def _relay_once(app: Flask, celery_app: Celery) -> RelayResult | None:
    """One batch, or None while the database cannot be reached."""
    with app.app_context():
        try:
            return relay(db.session, lambda: celery_publisher(celery_app))
        except OperationalError as exc:
            log.warning("database unavailable, the outbox waits: %s", exc.orig)
            return None
