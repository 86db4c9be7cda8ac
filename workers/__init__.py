"""Celery workers: `celery -A workers worker` and `celery -A workers beat`.

Celery finds the app in `workers.celery`; nothing in the project imports that module.
"""
