"""Sending one outbox email."""

from celery import Task, shared_task
from flask import current_app

from app import task_names
from app.extensions import db
from app.services.mail.delivery import DeliveryPolicy, Outcome, deliver
from app.services.mail.smtp import SmtpSettings


@shared_task(name=task_names.SEND_EMAIL, bind=True, max_retries=None)
def send_email(self: Task, email_id: int) -> None:
    """Attempts are counted in the row, not by Celery, so the limit survives redelivery."""
    config = current_app.config
    delivery = deliver(
        db.session, email_id, SmtpSettings.from_config(config), DeliveryPolicy.from_config(config)
    )
    if delivery.outcome is Outcome.RETRY:
        raise self.retry(countdown=delivery.retry_in)
