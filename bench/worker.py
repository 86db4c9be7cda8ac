"""The project's worker plus one no-op task, whose round trips are the ceiling's unit.

Run as `celery -A bench.worker worker`; only the worker-cost benchmark does.
"""

from functools import cache

import redis
from flask import current_app

from workers.celery import celery


@cache
def _counter() -> redis.Redis:
    return redis.Redis.from_url(current_app.config["REDIS_URL"])


@celery.task(name="bench.noop")
def noop() -> None:
    """A round trip through the broker and the worker; it only counts itself (one INCR)."""
    _counter().incr("bench:noop")
