"""Daily: anonymise leads settled longer ago than RETENTION_DAYS."""

from celery import shared_task
from flask import current_app

from app import task_names
from app.extensions import db
from app.models.base import utcnow
from app.services.privacy.retention import anonymise_expired


@shared_task(name=task_names.ANONYMISE_EXPIRED)
def anonymise() -> None:
    config = current_app.config
    anonymise_expired(db.session, config["RETENTION_DAYS"], config["UPLOAD_DIR"], utcnow())
