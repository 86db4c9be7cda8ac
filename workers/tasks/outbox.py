"""The sweeper: re-drives work whose broker message was lost."""

from datetime import timedelta

from celery import shared_task
from flask import current_app

from app import task_names
from app.extensions import db
from app.models.base import utcnow
from app.services.leads.processing import redrive_stuck_leads
from app.services.outbox import sweep
from app.task_queue import celery_publisher


@shared_task(name=task_names.SWEEP_OUTBOX)
def sweep_outbox() -> None:
    stale = timedelta(seconds=current_app.config["OUTBOX_STALE_SECONDS"])
    redrive_stuck_leads(db.session, stale, utcnow())
    db.session.commit()
    sweep(db.session, lambda: celery_publisher(current_app.extensions["celery"]), stale)
