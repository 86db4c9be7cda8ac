"""Daily credential expiry reminders; routing's load counts kept exact."""

from celery import shared_task
from flask import current_app

from app.extensions import db
from app.models.base import utcnow
from app.services import routing
from app.services.clinics import remind_expiring_credentials


@shared_task(name="clinics.remind_expiring_credentials")
def remind_credentials() -> None:
    remind_expiring_credentials(
        db.session, utcnow().date(), current_app.config["CREDENTIAL_REMINDER_DAYS"]
    )


@shared_task(name="clinics.recount_loads")
def recount_loads() -> None:
    """Ages assignments out of the clinics' week and month counts (beat, every few minutes)."""
    routing.recount_loads(db.session, utcnow())
    db.session.commit()
