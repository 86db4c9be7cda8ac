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
    errors = data.get("errors") or data.get("messages")
    if errors:
        # webargs nests the messages under the location ("json"); callers see fields.
        body["errors"] = errors.get("json", errors) if isinstance(errors, dict) else errors
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


def refuse(code: int, message: str, **data: Any) -> NoReturn:
    """Stop the request with a problem document: `message` becomes its `detail`, `errors`
    (a field's messages by field name) its `errors`."""
    error = default_exceptions[code]()
    error.data = {"message": message, **data}  # type: ignore[attr-defined]
    raise error
