"""Posting forms the way a browser does: fetch the page, keep the CSRF token and cookie."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

_TOKEN = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|'
    r'type="hidden" name="csrf_token" value="([^"]+)"|'
    r'name="csrf_token" value="([^"]+)"'
)


def csrf_token(client: FlaskClient, page: str) -> str:
    html = client.get(page).get_data(as_text=True)
    match = _TOKEN.search(html)
    assert match, f"no CSRF token on {page}"
    return next(group for group in match.groups() if group)


def submit(
    client: FlaskClient, page: str, data: dict[str, Any], action: str | None = None, **kwargs: Any
) -> TestResponse:
    """GET `page` for its token, then POST `data` to `action` (default: the page itself)."""
    return client.post(
        action or page, data={"csrf_token": csrf_token(client, page), **data}, **kwargs
    )
