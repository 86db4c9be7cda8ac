"""Daily credential expiry reminders."""

from celery import shared_task
from flask import current_app

from app.extensions import db
from app.models.base import utcnow
from app.services.clinics import remind_expiring_credentials


@shared_task(name="clinics.remind_expiring_credentials")
def remind_credentials() -> None:
    remind_expiring_credentials(
        db.session, utcnow().date(), current_app.config["CREDENTIAL_REMINDER_DAYS"]
    )
