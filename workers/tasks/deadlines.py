"""Clinic answer deadlines: reminders and re-routing (beat runs it every few minutes)."""

from datetime import datetime

from celery import shared_task
from flask import current_app

from app import task_names
from app.extensions import db
from app.models.base import utcnow
from app.services.answers.business_hours import DeadlinePolicy
from app.services.answers.deadlines import check_deadlines


@shared_task(name=task_names.CHECK_DEADLINES)
def check(now: str | None = None) -> None:
    """`now` (ISO 8601) runs the check as of another moment: the tests' clock, or catching
    up on a known outage. Beat passes nothing."""
    check_deadlines(
        db.session,
        DeadlinePolicy.from_config(current_app.config),
        datetime.fromisoformat(now) if now else utcnow(),
    )
