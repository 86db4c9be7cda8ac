"""Processing a new lead: dedup, routing, then its emails, sent by the same task."""

from celery import shared_task
from flask import current_app

from app import task_names
from app.extensions import db
from app.services.leads.processing import ProcessingPolicy, process_lead
from app.services.mail.delivery import DeliveryPolicy, Outcome, send_outgoing
from app.services.mail.smtp import SmtpSettings
from workers.tasks.mail import send_email


@shared_task(name=task_names.PROCESS_LEAD)
def process(lead_id: int) -> None:
    """The emails routing queues are built in its transaction and sent here right after its
    commit, rather than by a send task of their own: one task a lead instead of two."""
    config = current_app.config
    delivery_policy = DeliveryPolicy.from_config(config)
    outgoing = process_lead(
        db.session,
        lead_id,
        ProcessingPolicy(
            max_clinics=config["ROUTING_MAX_CLINICS"], max_attempts=config["LEAD_MAX_ATTEMPTS"]
        ),
        send_here=delivery_policy,
    )
    if not outgoing.claims:
        return
    settings = SmtpSettings.from_config(config)
    delivery = send_outgoing(db.session, outgoing, settings, delivery_policy)
    if delivery.outcome is Outcome.RETRY:
        send_email.apply_async((outgoing.claims[0].id,), countdown=delivery.retry_in)
