"""Daily: anonymise leads settled longer ago than RETENTION_DAYS."""

from celery import shared_task
from flask import current_app

from app.extensions import db
from app.models.base import utcnow
from app.services.retention import anonymise_expired


@shared_task(name="retention.anonymise")
def anonymise() -> None:
    config = current_app.config
    anonymise_expired(db.session, config["RETENTION_DAYS"], config["UPLOAD_DIR"], utcnow())
