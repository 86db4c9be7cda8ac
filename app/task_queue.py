"""Celery wired into Flask as in the Flask docs' pattern, with a reliable worker's settings.

The web process never imports `workers/`: it publishes by task name through the outbox relay.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from celery import Celery, Task
from celery.schedules import crontab
from celery.signals import worker_init, worker_process_init
from flask import Flask
from flask_babel import force_locale, get_translations

from app import task_names
from app.config import ConfigError
from app.extensions import db
from app.i18n import page_language, patient_locales
from app.services.answers.business_hours import DeadlinePolicy
from app.services.leads.routing import LOAD_RECOUNT_INTERVAL
from app.services.outbox import Publish


def celery_init_app(app: Flask) -> Celery:
    """Create the Celery app for this Flask app; tasks run inside its app context."""

    class FlaskTask(Task):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.conf.beat_schedule = {
        "outbox-sweep": {
            "task": task_names.SWEEP_OUTBOX,
            "schedule": timedelta(seconds=app.config["SWEEP_INTERVAL_SECONDS"]),
        },
        "clinic-answer-deadlines": {
            "task": task_names.CHECK_DEADLINES,
            "schedule": timedelta(seconds=app.config["DEADLINE_CHECK_SECONDS"]),
        },
        "clinic-load-recount": {
            "task": task_names.RECOUNT_CLINIC_LOADS,
            "schedule": LOAD_RECOUNT_INTERVAL,
        },
        "retention": {
            "task": task_names.ANONYMISE_EXPIRED,
            "schedule": crontab(hour=1, minute=15),
        },
        "credential-expiry-reminders": {
            "task": task_names.REMIND_EXPIRING_CREDENTIALS,
            "schedule": crontab(hour=0, minute=30),
        },
    }
    _check_visibility_timeout(app.config)

    @worker_init.connect(weak=False)
    def _warm_before_ready(**_: Any) -> None:
        with app.app_context():
            _load_before_first_task(app)

    @worker_process_init.connect(weak=False)
    def _fresh_process(**_: Any) -> None:
        with app.app_context():
            # A forked child must not reuse the parent's database connections.
            db.engine.dispose(close=False)

    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


def _load_before_first_task(app: Flask) -> None:
    """What any email's first rendering needs, loaded before a worker's first task instead
    of during it (which made that lead wait ten times as long as the next): every patient
    language's catalogue and locale data, the business calendar (its holiday tables).
    Loaded once in the worker's main process before it says it is ready, so each pool
    process forked from it starts with them (loaded in each pool process instead, the first
    lead waited ~0.1 s in the queue behind that process's start-up, after "ready"), and a
    solo or threaded pool, which forks nothing, is warmed too. The email templates are
    compiled here as well: ~0.2 s once a worker, instead of in every pool process during
    its first leads. Nothing here touches the database or the network, so a worker started
    while PostgreSQL is down still starts (its tasks fail and are retried)."""
    for tag in patient_locales():
        with force_locale(tag):
            get_translations()
            page_language()
    DeadlinePolicy.from_config(app.config)
    for name in app.jinja_env.list_templates(filter_func=lambda name: name.startswith("email/")):
        app.jinja_env.get_template(name)


def _check_visibility_timeout(config: dict[str, Any]) -> None:
    """Redis redelivers an unacknowledged task after the visibility timeout.

    A task still running (or waiting on its retry countdown, which Redis also holds as
    unacknowledged) when the timeout passes would run twice, so the timeout must exceed the
    longest task plus the longest retry backoff.
    """
    celery_conf = config["CELERY"]
    if not config["REDIS_URL"]:
        return
    visibility = celery_conf["broker_transport_options"]["visibility_timeout"]
    longest = celery_conf["task_time_limit"] + config["MAIL_RETRY_MAX_SECONDS"]
    if visibility <= longest:
        raise ConfigError(
            f"BROKER_VISIBILITY_TIMEOUT_SECONDS ({visibility}) must exceed the longest task "
            f"plus the longest retry backoff ({longest} s), or tasks would run twice."
        )


@contextmanager
def celery_publisher(celery_app: Celery) -> Iterator[Publish]:
    """One producer for a batch; each task is sent by name, failing fast if the broker is down.

    The web process never imports the task functions, only their names.
    """
    with celery_app.producer_or_acquire() as producer:

        def publish(task: str, args: Sequence[Any]) -> None:
            celery_app.send_task(task, args=list(args), producer=producer, retry=False)

        yield publish
