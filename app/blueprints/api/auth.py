"""Who is calling: the key in `Authorization: Bearer`, checked once per request."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from http import HTTPStatus
from typing import Any

from flask import current_app, g, request
from flask_smorest import Blueprint

from app.extensions import db, limiter
from app.models import ApiKey, ClinicUser, StaffUser
from app.services.accounts.password_links import primary_user
from app.services.integrations import keys
from app.web.problems import refuse


def current_key() -> ApiKey:
    key: ApiKey = g.api_key
    return key


def acting_staff() -> StaffUser:
    """The staff member a staff key acts for: the console's actions and audit events need
    one, and a key of a clinic or a partner never stands for staff, whatever its scopes."""
    staff = current_key().staff_user
    if staff is None:
        refuse(403, message="Only a staff member's key may do this.")
    return staff


def acting_clinic_user() -> ClinicUser:
    """The clinic user a clinic key acts as: the clinic's primary account, the one behind
    the clinic's own address (where CareRoute sends its notices).

    A key belongs to the clinic, not to the colleague who made it: it keeps working when
    that colleague leaves, so its answers cannot be theirs. The primary account is the
    person CareRoute already holds answerable for the clinic, so the audit trail and the
    patient's email name the same account a portal answer from that address would. A
    clinic whose primary account was removed cannot act through a key until it is back.
    """
    clinic = current_key().clinic
    if clinic is None:
        refuse(403, message="Only a clinic's key may do this.")
    user = primary_user(db.session, clinic.id, clinic.email)
    if user is None:
        refuse(403, message="The clinic's own portal account is not active.")
    return user


def per_key_limit() -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Every API endpoint's rate limit (`API_RATE_LIMIT`), counted per key."""
    return limiter.limit(lambda: str(current_app.config["API_RATE_LIMIT"]), key_func=key_prefix)


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


def keyed(
    bp: Blueprint, scope: str, *errors: int
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """An endpoint behind a key, as every keyed endpoint is: limited per key, refused
    without `scope`, and documented so (the bearer scheme with the scope as its role, as
    OpenAPI 3.1 allows; 401, 403, 429 and `errors` as problem documents). Goes right under
    the route, so the key is checked before the body."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        for code in sorted({401, 403, 429, *errors}):
            view = bp.alt_response(code, response=HTTPStatus(code).name)(view)
        view = bp.doc(security=[{"bearer": [scope]}])(view)
        return per_key_limit()(requires(scope)(view))

    return decorate
