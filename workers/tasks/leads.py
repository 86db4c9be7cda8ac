"""Processing a new lead: dedup, routing, emails."""

from celery import shared_task
from flask import current_app

from app.extensions import db
from app.services.lead_processing import ProcessingPolicy, process_lead


@shared_task(name="leads.process")
def process(lead_id: int) -> None:
    process_lead(
        db.session,
        lead_id,
        ProcessingPolicy(
            max_clinics=current_app.config["ROUTING_MAX_CLINICS"],
            max_attempts=current_app.config["LEAD_MAX_ATTEMPTS"],
        ),
    )
