"""The policies services run under in tests: routing, email delivery and answer deadlines."""

from __future__ import annotations

from app.services.answers.business_hours import DeadlinePolicy
from app.services.leads.processing import ProcessingPolicy
from app.services.mail.delivery import DeliveryPolicy
from tests.support.clock import CALENDAR

# Up to three clinics a lead; three attempts before a lead is flagged as failing.
PROCESSING = ProcessingPolicy(max_clinics=3, max_attempts=3)

# Retries fast enough for a test to watch them.
DELIVERY = DeliveryPolicy(
    sender="CareRoute <no-reply@careroute.test>",
    max_attempts=3,
    retry_base_seconds=0.1,
    retry_max_seconds=1.0,
    lease_seconds=30,
)

# A reminder after 24 business hours, the next clinic after 48, one clinic at a time.
DEADLINES = DeadlinePolicy(CALENDAR, remind_after_hours=24, reroute_after_hours=48, max_clinics=1)
