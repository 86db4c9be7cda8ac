"""Who is calling: the key in `Authorization: Bearer`, checked once per request."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g, request

from app.extensions import db
from app.models import ApiKey
from app.services.integrations import keys
from app.web.problems import refuse


def current_key() -> ApiKey:
    key: ApiKey = g.api_key
    return key


def key_prefix() -> str:
    """The rate limit's bucket: the key's public prefix, or the address of a caller without
    one (the limiter runs before the key is checked, and needs no database)."""
    _, _, rest = request.headers.get("Authorization", "").partition(" ")
    prefix = rest.split("_")[1] if rest.count("_") >= 2 else ""
    return f"key:{prefix}" if prefix else f"ip:{request.remote_addr}"


def requires(scope: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """401 without a live key, 403 for a key without `scope`."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            kind, _, presented = request.headers.get("Authorization", "").partition(" ")
            key = keys.authenticate(db.session, presented) if kind == "Bearer" else None
            if key is None:
                refuse(401, message="A live API key is needed: Authorization: Bearer <key>.")
            if scope not in key.scopes:
                refuse(403, message=f"This key may not do this (it lacks the scope {scope}).")
            g.api_key = key
            return view(*args, **kwargs)

        return checked

    return decorate
