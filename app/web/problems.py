"""Errors of the JSON API as RFC 9457 problem documents: a machine reads `status` and
`type`, a person reads `title` and `detail`, and a 422 names each field with its messages."""

from __future__ import annotations

from typing import Any, NoReturn

from flask import Response, json
from werkzeug.exceptions import HTTPException, default_exceptions

MEDIA_TYPE = "application/problem+json"


def problem(error: HTTPException) -> Response:
    code = error.code or 500
    data: dict[str, Any] = getattr(error, "data", None) or {}
    body: dict[str, Any] = {"type": "about:blank", "status": code, "title": error.name}
    detail = data.get("message") or (error.description if code < 500 else None)
    if detail:
        body["detail"] = str(detail)
    errors = data.get("errors")
    if errors is None and data.get("messages"):
        # webargs keys its messages by location ("json", "query"); callers see fields, or
        # the location itself for a body that is not JSON at all.
        errors = {}
        for location, located in data["messages"].items():
            errors.update(located if isinstance(located, dict) else {location: located})
    if errors:
        body["errors"] = by_field(errors)
    response = Response(json.dumps(body), status=code, mimetype=MEDIA_TYPE)
    # What the error itself says in headers: Allow on a 405, Retry-After on a 429.
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    for name, value in (data.get("headers") or {}).items():
        response.headers[name] = value
    if code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="CareRoute API"'
    return response


def by_field(errors: Any, path: str = "") -> dict[str, list[str]]:
    """Every message under its field's path in the body (`quote.items.mri.price`): one level,
    as the document describes `errors`, however deeply a form or a schema nests them."""
    if isinstance(errors, dict):
        flat: dict[str, list[str]] = {}
        for name, inner in errors.items():
            flat.update(by_field(inner, f"{path}{name}."))
        return flat
    messages = errors if isinstance(errors, list | tuple) else [errors]
    return {path.removesuffix("."): [str(message) for message in messages]}


def refuse(code: int, message: str, **data: Any) -> NoReturn:
    """Stop the request with a problem document: `message` becomes its `detail`, `errors`
    (a field's messages by field name, sub-forms' fields nested) its `errors`."""
    error = default_exceptions[code]()
    error.data = {"message": message, **data}  # type: ignore[attr-defined]
    raise error
