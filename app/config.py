"""Configuration from the environment: the variable names are what operators set, so they
stay as they are.

Settings are read once per `create_app()` call into a plain dict, so tests build their own
config without mutating a shared class. `CAREROUTE_ENV` defaults to development so that the
contract's commands work on a fresh clone with no settings at all; a deployment sets
`CAREROUTE_ENV=production`, which turns on secure cookies and HSTS, removes the development
mail viewer and demands a `SECRET_KEY`.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from email.utils import parseaddr
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from cryptography.fernet import Fernet

from app.encryption import DataKeys, parse_keys

ENVIRONMENTS = ("development", "production", "testing")


N = TypeVar("N", int, float)


class ConfigError(RuntimeError):
    """Raised at start-up when a setting is missing or inconsistent."""


def _number(env: Mapping[str, str], name: str, default: N) -> N:
    """Read a number of the default's type, or stop start-up naming the bad variable."""
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return type(default)(raw)
    except ValueError as exc:
        kind = "a whole number" if isinstance(default, int) else "a number"
        raise ConfigError(f"{name} must be {kind}, got {raw!r}.") from exc


def _development_secret(instance_path: Path) -> str:
    """Generate the development secret once, so sessions survive a restart of `make run`."""
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(48))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _development_data_key(instance_path: Path) -> str:
    """One data key generated into `instance/`, like the secret key (development only)."""
    key_file = instance_path / "data_keys"
    if not key_file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        key_file.write_text(Fernet.generate_key().decode())
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _transport_options(env: Mapping[str, str], redis_url: str) -> dict[str, Any]:
    """Redis needs a visibility timeout; the embedded SQLAlchemy transport takes none."""
    if not redis_url:
        return {}
    return {
        "visibility_timeout": _number(env, "BROKER_VISIBILITY_TIMEOUT_SECONDS", 3600),
        "socket_connect_timeout": 2,
    }


def _reply_to(env: Mapping[str, str], production: bool) -> str:
    """Where patients' replies go. Patient emails ask for a reply, so in production it must
    be a mailbox the team reads: a made-up default would send those replies nowhere."""
    reply_to = env.get("REPLY_TO", "")
    if not reply_to:
        if production:
            raise ConfigError(
                "REPLY_TO is required in production: the mailbox your team reads, where "
                "patients' replies go (e.g. 'CareRoute <care@example.com>')."
            )
        reply_to = "CareRoute <care@careroute.local>"
    if "@" not in parseaddr(reply_to)[1]:
        raise ConfigError(f"REPLY_TO must be an email address, got {reply_to!r}.")
    return reply_to


def load_config(env: Mapping[str, str], instance_path: str | os.PathLike[str]) -> dict[str, Any]:
    """Build the Flask config for one app from environment variables."""
    instance = Path(instance_path)
    environment = env.get("CAREROUTE_ENV") or "development"
    if environment not in ENVIRONMENTS:
        raise ConfigError(
            f"CAREROUTE_ENV must be one of {', '.join(ENVIRONMENTS)}, got {environment!r}."
        )
    production = environment == "production"

    secret_key = env.get("SECRET_KEY", "")
    if not secret_key:
        if production:
            raise ConfigError(
                "SECRET_KEY is required in production: set it to a long random value "
                "(python -c 'import secrets; print(secrets.token_urlsafe(48))')."
            )
        secret_key = _development_secret(instance)

    data_keys = parse_keys(env.get("DATA_KEYS", ""))
    if not data_keys:
        if production:
            raise ConfigError(
                "DATA_KEYS is required in production: one or more Fernet keys, newest first "
                "(flask --app app keys generate)."
            )
        data_keys = [_development_data_key(instance)]
    try:
        DataKeys(data_keys)
    except ValueError as exc:
        raise ConfigError(f"DATA_KEYS holds a key that is not a Fernet key: {exc}") from exc

    reply_to = _reply_to(env, production)
    base_url = env.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    broker_url = env.get("CELERY_BROKER_URL") or f"sqla+sqlite:///{instance / 'broker.db'}"
    redis_url = broker_url if broker_url.startswith(("redis://", "rediss://")) else ""
    trusted_hosts = [h.strip() for h in env.get("TRUSTED_HOSTS", "").split(",") if h.strip()]
    if not trusted_hosts:
        trusted_hosts = [urlsplit(base_url).hostname or "127.0.0.1"]
        if not production:
            trusted_hosts += ["127.0.0.1", "localhost"]

    smtp_timeout = _number(env, "SMTP_TIMEOUT_SECONDS", 10.0)
    task_time_limit = _number(env, "TASK_TIME_LIMIT_SECONDS", 120)

    return {
        "CAREROUTE_ENV": environment,
        "SECRET_KEY": secret_key,
        "DATA_KEYS": data_keys,
        "RETENTION_DAYS": _number(env, "RETENTION_DAYS", 365),
        # A patient may ask for their data or its erasure from their confirmation email.
        "PRIVACY_LINK_MAX_AGE_SECONDS": _number(
            env, "PRIVACY_LINK_MAX_AGE_SECONDS", 365 * 24 * 3600
        ),
        "SQLALCHEMY_DATABASE_URI": env.get("DATABASE_URL")
        or f"sqlite:///{instance / 'careroute.db'}",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "BASE_URL": base_url,
        "PREFERRED_URL_SCHEME": urlsplit(base_url).scheme or "http",
        "TRUSTED_HOSTS": trusted_hosts,
        "SMTP_URL": env.get("SMTP_URL", "smtp://127.0.0.1:1025"),
        "SMTP_TIMEOUT_SECONDS": smtp_timeout,
        "MAIL_FROM": env.get("MAIL_FROM", "CareRoute <no-reply@careroute.local>"),
        "REPLY_TO": reply_to,
        "MAIL_MAX_ATTEMPTS": _number(env, "MAIL_MAX_ATTEMPTS", 6),
        "MAIL_RETRY_BASE_SECONDS": _number(env, "MAIL_RETRY_BASE_SECONDS", 30.0),
        "MAIL_RETRY_MAX_SECONDS": _number(env, "MAIL_RETRY_MAX_SECONDS", 900.0),
        "MAILCATCHER_DIR": env.get("MAILCATCHER_DIR", str(instance / "devmail")),
        "MAILCATCHER_PORT": _number(env, "MAILCATCHER_PORT", 1025),
        "DEV_MAIL_VIEWER": environment == "development",
        "STAFF_NOTIFY_EMAIL": env.get("STAFF_NOTIFY_EMAIL", "staff@careroute.local"),
        "ROUTING_MAX_CLINICS": _number(env, "ROUTING_MAX_CLINICS", 3),
        "LEAD_MAX_ATTEMPTS": _number(env, "LEAD_MAX_ATTEMPTS", 3),
        "UPLOAD_DIR": env.get("UPLOAD_DIR", str(instance / "uploads")),
        # The whole request: a 10 MB attachment plus the form's text fields.
        "MAX_CONTENT_LENGTH": 10 * 1024 * 1024 + 256 * 1024,
        "INQUIRY_RATE_LIMIT": env.get("INQUIRY_RATE_LIMIT", "10 per minute;60 per day"),
        "INQUIRY_MIN_FILL_SECONDS": _number(env, "INQUIRY_MIN_FILL_SECONDS", 3.0),
        "OUTBOX_STALE_SECONDS": _number(env, "OUTBOX_STALE_SECONDS", 60.0),
        "SWEEP_INTERVAL_SECONDS": _number(env, "SWEEP_INTERVAL_SECONDS", 30.0),
        "RELAY_POLL_SECONDS": _number(env, "RELAY_POLL_SECONDS", 0.2),
        "CREDENTIAL_REMINDER_DAYS": _number(env, "CREDENTIAL_REMINDER_DAYS", 30),
        "EMAIL_LINK_MAX_AGE_SECONDS": _number(env, "EMAIL_LINK_MAX_AGE_SECONDS", 7 * 24 * 3600),
        # A patient's own page opens from their emails for as long as clinics usually answer
        # and quote; after that the patient asks for fresh links by address.
        "STATUS_LINK_MAX_AGE_SECONDS": _number(env, "STATUS_LINK_MAX_AGE_SECONDS", 90 * 24 * 3600),
        "PROXY_FIX_HOPS": _number(env, "PROXY_FIX_HOPS", 0),
        "REDIS_URL": redis_url,
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI") or redis_url or "memory://",
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        # Only browser forms are limited, and a browser does nothing with X-RateLimit
        # headers; writing them cost every limited request two more Redis round trips.
        "RATELIMIT_HEADERS_ENABLED": False,
        "LOGIN_RATE_LIMIT": env.get("LOGIN_RATE_LIMIT", "10 per minute;50 per hour"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        "STAFF_IDLE_MINUTES": _number(env, "STAFF_IDLE_MINUTES", 30),
        "STAFF_SESSION_HOURS": _number(env, "STAFF_SESSION_HOURS", 8),
        # Clinics sign in between patients: a longer idle time, still a working day at most.
        "PORTAL_IDLE_MINUTES": _number(env, "PORTAL_IDLE_MINUTES", 120),
        "PORTAL_SESSION_HOURS": _number(env, "PORTAL_SESSION_HOURS", 12),
        "PASSWORD_LINK_MAX_AGE_SECONDS": _number(env, "PASSWORD_LINK_MAX_AGE_SECONDS", 72 * 3600),
        "BUSINESS_TIMEZONE": env.get("BUSINESS_TIMEZONE", "Asia/Seoul"),
        "BUSINESS_HOURS": env.get("BUSINESS_HOURS", "09:00-18:00"),
        "BUSINESS_COUNTRY": env.get("BUSINESS_COUNTRY", "KR"),
        "CLINIC_REMINDER_HOURS": _number(env, "CLINIC_REMINDER_HOURS", 24.0),
        "CLINIC_REROUTE_HOURS": _number(env, "CLINIC_REROUTE_HOURS", 48.0),
        "CONSENT_WAIT_HOURS": _number(env, "CONSENT_WAIT_HOURS", 72.0),
        # Staff's first answer to a new lead, in business hours on the clinics' calendar.
        "STAFF_RESPONSE_HOURS": _number(env, "STAFF_RESPONSE_HOURS", 4.0),
        # Per API key (per address without one): a partner's form relays one patient at a time.
        "API_RATE_LIMIT": env.get("API_RATE_LIMIT", "120 per minute"),
        # Webhooks: attempts back off from 30 s to an hour (eight attempts span about two
        # hours); a subscription failing for three days is disabled and its owner told.
        "WEBHOOK_MAX_ATTEMPTS": _number(env, "WEBHOOK_MAX_ATTEMPTS", 8),
        "WEBHOOK_RETRY_BASE_SECONDS": _number(env, "WEBHOOK_RETRY_BASE_SECONDS", 30.0),
        "WEBHOOK_RETRY_MAX_SECONDS": _number(env, "WEBHOOK_RETRY_MAX_SECONDS", 3600.0),
        "WEBHOOK_TIMEOUT_SECONDS": _number(env, "WEBHOOK_TIMEOUT_SECONDS", 10.0),
        "WEBHOOK_DISABLE_AFTER_DAYS": _number(env, "WEBHOOK_DISABLE_AFTER_DAYS", 3),
        # Development only: lets a webhook reach a receiver on this machine.
        "WEBHOOK_ALLOW_PRIVATE": env.get("WEBHOOK_ALLOW_PRIVATE", "") == "1",
        "DEADLINE_CHECK_SECONDS": _number(env, "DEADLINE_CHECK_SECONDS", 300.0),
        "HSTS": production,
        "WTF_CSRF_TIME_LIMIT": None,
        "BABEL_DEFAULT_LOCALE": "en",
        # Times on pages are Seoul times, the clinics' clock and the deadlines'.
        "BABEL_DEFAULT_TIMEZONE": env.get("BUSINESS_TIMEZONE", "Asia/Seoul"),
        # Catalogues found here are the languages offered; a new folder needs no code change.
        # Two gettext domains in it: `messages` (what patients read, every patient language)
        # and `console` (portal, console and clinic emails, Korean and English).
        "BABEL_TRANSLATION_DIRECTORIES": ";".join(
            [env.get("TRANSLATION_DIRECTORIES", "translations")] * 2
        ),
        # `messages` last: Flask-Babel takes the plural rule from the last catalogue it
        # merges, and a language without a console catalogue would get English's.
        "BABEL_DOMAIN": "console;messages",
        "CELERY": {
            "broker_url": broker_url,
            "broker_connection_retry_on_startup": True,
            # Publishing must fail fast when the broker is down: the outbox keeps the work.
            "broker_connection_timeout": 2.0,
            "broker_transport_options": _transport_options(env, redis_url),
            "task_acks_late": True,
            "task_reject_on_worker_lost": True,
            "worker_prefetch_multiplier": 1,
            "worker_cancel_long_running_tasks_on_connection_loss": True,
            "task_serializer": "json",
            "result_serializer": "json",
            "accept_content": ["json"],
            "task_ignore_result": True,
            "task_time_limit": task_time_limit,
            "task_soft_time_limit": max(task_time_limit - 10, 1),
            "worker_hijack_root_logger": False,
            "imports": [
                "workers.tasks.mail",
                "workers.tasks.outbox",
                "workers.tasks.clinics",
                "workers.tasks.leads",
                "workers.tasks.deadlines",
                "workers.tasks.retention",
                "workers.tasks.webhooks",
            ],
        },
    }
