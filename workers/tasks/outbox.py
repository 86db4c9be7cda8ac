"""The sweeper: re-drives work whose broker message was lost."""

from datetime import timedelta

from celery import shared_task
from flask import current_app

from app.extensions import db
from app.services.outbox import sweep
from app.task_queue import celery_publisher


@shared_task(name="outbox.sweep", time_limit=120, soft_time_limit=110)
def sweep_outbox() -> None:
    sweep(
        db.session,
        lambda: celery_publisher(current_app.extensions["celery"]),
        stale_after=timedelta(seconds=current_app.config["OUTBOX_STALE_SECONDS"]),
    )
