"""The outbox relay, start-up configuration checks, headers and health endpoints."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app import create_app
from app.config import ConfigError
from app.extensions import db
from app.models import OutboxMessage
from app.services.outbox import enqueue_task, relay
from tests.conftest import CollectingPublisher, app_settings


def test_relay_publishes_in_order_and_marks_rows(app: Flask, publisher: CollectingPublisher):
    for n in range(3):
        enqueue_task(db.session, "mail.send", n)
    db.session.commit()

    result = relay(db.session, publisher)

    assert (result.published, result.waiting) == (3, 0)
    assert publisher.published == [("mail.send", [0]), ("mail.send", [1]), ("mail.send", [2])]
    assert relay(db.session, publisher).published == 0


def test_rows_wait_in_the_outbox_while_the_broker_is_down(app: Flask):
    for n in range(3):
        enqueue_task(db.session, "mail.send", n)
    db.session.commit()

    result = relay(db.session, CollectingPublisher(fail_after=1))

    assert (result.published, result.waiting) == (1, 2)
    unpublished = db.session.scalars(
        select(OutboxMessage.args).where(OutboxMessage.published_at.is_(None))
    ).all()
    assert unpublished == [[1], [2]]


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path):
    settings = app_settings(tmp_path, CAREROUTE_ENV="production", SECRET_KEY="")
    with pytest.raises(ConfigError, match="SECRET_KEY is required in production"):
        create_app(settings)


def test_visibility_timeout_must_outlast_task_and_backoff(tmp_path: Path):
    settings = app_settings(
        tmp_path,
        CELERY_BROKER_URL="redis://127.0.0.1:6379/0",
        BROKER_VISIBILITY_TIMEOUT_SECONDS="600",
        MAIL_RETRY_MAX_SECONDS="900",
    )
    with pytest.raises(ConfigError, match="VISIBILITY_TIMEOUT"):
        create_app(settings)


def test_dev_mail_viewer_exists_only_in_development(tmp_path: Path):
    testing = create_app(app_settings(tmp_path))
    development = create_app(app_settings(tmp_path, CAREROUTE_ENV="development"))
    assert testing.test_client().get("/dev/mail").status_code == 404
    assert development.test_client().get("/dev/mail").status_code == 200


@pytest.mark.parametrize("path", ["/", "/nope", "/clinics/join"])
def test_security_headers_on_every_response(client: FlaskClient, path: str):
    headers = client.get(path).headers
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    for part in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert part in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"]


def test_unknown_host_header_is_refused(client: FlaskClient):
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 400


def test_pages_carry_no_inline_script(client: FlaskClient):
    for path in ("/", "/clinics", "/clinics/join", "/staff/login"):
        html = client.get(path).get_data(as_text=True)
        assert "<script" not in html and "onclick" not in html and "style=" not in html


def test_readyz_names_the_dependency_that_is_down(tmp_path: Path):
    app = create_app(app_settings(tmp_path, CELERY_BROKER_URL="redis://127.0.0.1:1/0"))
    with app.app_context():
        db.create_all()
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["down"] == ["broker"]
    assert app.test_client().get("/healthz").status_code == 200


def test_locale_follows_an_explicit_choice_then_accept_language(client: FlaskClient):
    assert 'lang="en"' in client.get("/", headers={"Accept-Language": "en-GB"}).text
    assert 'lang="en"' in client.get("/?lang=xx").text


def test_production_sends_hsts_and_secure_cookies(tmp_path: Path):
    app = create_app(
        app_settings(tmp_path, CAREROUTE_ENV="production", TRUSTED_HOSTS="127.0.0.1,localhost")
    )
    with app.app_context():
        db.create_all()
    response = app.test_client().get("/staff/login")
    assert "max-age=" in response.headers["Strict-Transport-Security"]
    assert "Secure" in response.headers["Set-Cookie"]
    assert app.config["REMEMBER_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]
