"""Thin, idempotent tasks: each takes ids, calls a service, and is safe to run twice.

Every task has an explicit name (the outbox publishes by name) and runs under the time
limits set for all tasks in the Celery config (`TASK_TIME_LIMIT_SECONDS`), which the
start-up check compares with the broker's visibility timeout.
"""
