"""Sending one webhook delivery."""

from celery import Task, shared_task
from flask import current_app

from app import task_names
from app.extensions import db
from app.services.integrations.webhooks import WebhookPolicy, deliver
from app.services.mail.delivery import Outcome


@shared_task(name=task_names.DELIVER_WEBHOOK, bind=True, max_retries=None)
def deliver_webhook(self: Task, delivery_id: int) -> None:
    """Attempts are counted in the row, not by Celery, so the limit survives redelivery."""
    attempt = deliver(db.session, delivery_id, WebhookPolicy.from_config(current_app.config))
    if attempt.outcome is Outcome.RETRY:
        raise self.retry(countdown=attempt.retry_in)
