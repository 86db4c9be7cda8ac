"""Signed links in emails and absolute URLs built outside a request (in a worker)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer


class InvalidLink(Exception):
    """The link was tampered with, is for another purpose, has expired, or was used."""

    def __init__(self, expired: bool, used: bool = False) -> None:
        super().__init__("expired" if expired else "used" if used else "invalid")
        self.expired = expired
        self.used = used


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    # The purpose is the salt: a token made for one link never opens another.
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"careroute.{purpose}")


def sign(purpose: str, payload: dict[str, Any]) -> str:
    return _serializer(purpose).dumps(payload)


def unsign(purpose: str, token: str, max_age: int | None = None) -> dict[str, Any]:
    """Read a signed payload or raise `InvalidLink`."""
    if max_age is None:
        max_age = current_app.config["EMAIL_LINK_MAX_AGE_SECONDS"]
    try:
        payload = _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise InvalidLink(expired=True) from exc
    except BadSignature as exc:
        raise InvalidLink(expired=False) from exc
    if not isinstance(payload, dict):
        raise InvalidLink(expired=False)
    return payload


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute link under BASE_URL, for emails rendered where there is no request."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme
    )
    return adapter.build(endpoint, values, force_external=True)
