"""The names tasks are registered and published under, defined once.

The web process publishes a task by name through the outbox and never imports `workers/`;
the worker registers each task under the same constant, so the two cannot drift apart.
"""

PROCESS_LEAD = "leads.process"
SEND_EMAIL = "mail.send"
SWEEP_OUTBOX = "outbox.sweep"
CHECK_DEADLINES = "deadlines.check"
RECOUNT_CLINIC_LOADS = "clinics.recount_loads"
REMIND_EXPIRING_CREDENTIALS = "clinics.remind_expiring_credentials"
ANONYMISE_EXPIRED = "retention.anonymise"
DELIVER_WEBHOOK = "webhooks.deliver"
