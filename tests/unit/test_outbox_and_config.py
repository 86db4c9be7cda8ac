"""The outbox relay, start-up configuration checks, headers and health endpoints."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app import create_app, task_names
from app.config import ConfigError
from app.extensions import babel, db
from app.models import OutboxMessage
from app.relay import run_relay
from app.services.outbox import enqueue_task, relay
from tests.support.application import app_settings, make_app
from tests.support.broker import CollectingPublisher


def test_relay_publishes_in_order_and_marks_rows(app: Flask, publisher: CollectingPublisher):
    for n in range(3):
        enqueue_task(db.session, task_names.SEND_EMAIL, n)
    db.session.commit()

    result = relay(db.session, publisher)

    assert (result.published, result.waiting) == (3, 0)
    assert publisher.published == [
        (task_names.SEND_EMAIL, [0]),
        (task_names.SEND_EMAIL, [1]),
        (task_names.SEND_EMAIL, [2]),
    ]
    assert relay(db.session, publisher).published == 0


def test_rows_wait_in_the_outbox_while_the_broker_is_down(app: Flask):
    for n in range(3):
        enqueue_task(db.session, task_names.SEND_EMAIL, n)
    db.session.commit()

    result = relay(db.session, CollectingPublisher(fail_after=1))

    assert (result.published, result.waiting) == (1, 2)
    unpublished = db.session.scalars(
        select(OutboxMessage.args).where(OutboxMessage.published_at.is_(None))
    ).all()
    assert unpublished == [[1], [2]]


def test_the_relay_waits_out_an_unreachable_database(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    # Nothing listens on port 1: every connection is refused, as while PostgreSQL restarts.
    unreachable = "postgresql+psycopg://postgres@127.0.0.1:1/careroute"
    app = create_app(app_settings(tmp_path, DATABASE_URL=unreachable))
    stop = threading.Event()
    published: list[int] = []
    thread = threading.Thread(target=lambda: published.append(run_relay(app, stop)))
    thread.start()

    deadline = time.monotonic() + 10
    while caplog.text.count("database unavailable") < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    still_running = thread.is_alive()
    stop.set()
    thread.join(timeout=10)

    assert caplog.text.count("database unavailable") >= 2
    assert still_running
    assert published == [0]


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


def test_readyz_names_the_dependency_that_is_down(settings: dict[str, str]):
    app = make_app(settings, CELERY_BROKER_URL="redis://127.0.0.1:1/0")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["down"] == ["broker"]
    assert app.test_client().get("/healthz").status_code == 200


HEADING = "Treatment in Korea, from clinics that fit you"


def add_catalogue(directory: Path, locale: str, translations: dict[str, str]) -> None:
    """A compiled catalogue on disk: all it takes to offer a language."""
    catalog = Catalog(locale=locale)
    for source, text in translations.items():
        catalog.add(source, text)
    folder = directory / locale / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with (folder / "messages.mo").open("wb") as out:
        write_mo(out, catalog)


@pytest.fixture
def fresh_translations() -> Iterator[None]:
    """Flask-Babel keeps loaded catalogues on its one shared extension object, by locale only:
    an app reading another folder would get the catalogues an earlier app loaded."""
    babel.domain_instance.cache.clear()
    yield
    babel.domain_instance.cache.clear()


def test_a_new_catalogue_is_offered_and_chosen_explicitly_then_by_browser(
    settings: dict[str, str], tmp_path: Path, fresh_translations: None
):
    add_catalogue(tmp_path / "catalogues", "ko", {HEADING: "한국에서 받는 치료"})
    client = make_app(settings, TRANSLATION_DIRECTORIES=str(tmp_path / "catalogues")).test_client()
    korean = {"Accept-Language": "ko-KR,ko;q=0.9,en;q=0.5"}

    page = client.get("/", headers=korean).text
    assert 'lang="ko"' in page and "한국에서 받는 치료" in page
    assert 'lang="en"' in client.get("/?lang=en", headers=korean).text
    # The explicit choice is remembered over the browser's preference...
    assert HEADING in client.get("/", headers=korean).text
    # ...and an unknown choice changes nothing.
    assert 'lang="en"' in client.get("/?lang=xx", headers=korean).text


def test_production_sends_hsts_and_secure_cookies(settings: dict[str, str]):
    app = make_app(settings, CAREROUTE_ENV="production", TRUSTED_HOSTS="127.0.0.1,localhost")
    response = app.test_client().get("/staff/login")
    assert "max-age=" in response.headers["Strict-Transport-Security"]
    assert "Secure" in response.headers["Set-Cookie"]
    assert app.config["REMEMBER_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]
