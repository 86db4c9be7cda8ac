"""Processing a new lead: dedup, routing, emails."""

from celery import shared_task
from flask import current_app

from app import task_names
from app.extensions import db
from app.services.leads.processing import ProcessingPolicy, process_lead


@shared_task(name=task_names.PROCESS_LEAD)
def process(lead_id: int) -> None:
    process_lead(
        db.session,
        lead_id,
        ProcessingPolicy(
            max_clinics=current_app.config["ROUTING_MAX_CLINICS"],
            max_attempts=current_app.config["LEAD_MAX_ATTEMPTS"],
        ),
    )
