"""Daily credential expiry reminders; routing's load counts kept exact."""

from celery import shared_task
from flask import current_app

from app import task_names
from app.extensions import db
from app.models.base import utcnow
from app.services.clinics.credentials import remind_expiring_credentials
from app.services.leads import routing


@shared_task(name=task_names.REMIND_EXPIRING_CREDENTIALS)
def remind_credentials() -> None:
    remind_expiring_credentials(
        db.session, utcnow().date(), current_app.config["CREDENTIAL_REMINDER_DAYS"]
    )


@shared_task(name=task_names.RECOUNT_CLINIC_LOADS)
def recount_loads() -> None:
    """Ages assignments out of the clinics' week and month counts (beat, every few minutes)."""
    routing.recount_loads(db.session, utcnow())
    db.session.commit()
