"""The app under test: settings as an operator sets them, on a database of the test's own."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.extensions import db
from app.services.clinics.catalog import load_catalog

# A fixed Fernet key for tests only (production keys come from the environment).
TEST_DATA_KEY = "dGVzdC1vbmx5LWRhdGEta2V5LW5vdC1mb3ItdXNlISE="


def app_settings(tmp_path: Any, **overrides: str) -> dict[str, str]:
    """Settings as an operator would set them, pointing every file into `tmp_path`."""
    return {
        "CAREROUTE_ENV": "testing",
        "SECRET_KEY": "test-secret-key-not-for-production",
        "DATA_KEYS": TEST_DATA_KEY,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'test.db'}",
        "CELERY_BROKER_URL": "memory://",
        "SMTP_URL": "smtp://127.0.0.1:9",
        "REPLY_TO": "CareRoute <care@careroute.test>",
        "MAILCATCHER_DIR": str(tmp_path / "devmail"),
        "RATELIMIT_STORAGE_URI": "memory://",
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "INQUIRY_MIN_FILL_SECONDS": "0",
        "INQUIRY_RATE_LIMIT": "1000 per minute",
        **overrides,
    }


class FreshContextClient(FlaskClient):
    """Each request gets its own app context, as in production.

    The `app` fixture keeps a context open for the test's own database access; without
    this, requests would share its `g` (and so one cached CSRF token) across requests.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        with self.application.app_context():
            return super().open(*args, **kwargs)


def make_app(settings: dict[str, str], **overrides: str) -> Flask:
    """An app on the test's database (tables and catalogue in place), with `overrides`."""
    app = create_app({**settings, **overrides})
    app.test_client_class = FreshContextClient
    with app.app_context():
        db.create_all()
        load_catalog(db.session)
    return app
