"""Dependency checks behind /readyz."""

from __future__ import annotations

from celery import Celery
from sqlalchemy import text

from app.models.base import DbSession


def database_ok(session: DbSession) -> bool:
    try:
        session.execute(text("SELECT 1"))
        return True
    except Exception:
        session.rollback()
        return False


def broker_ok(celery_app: Celery, timeout: float = 2.0) -> bool:
    try:
        with celery_app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=timeout)
        return True
    except Exception:
        return False
