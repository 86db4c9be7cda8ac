"""Posting forms the way a browser does: fetch the page, keep the CSRF token and cookie."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.support.data import inquiry

_TOKEN = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|'
    r'type="hidden" name="csrf_token" value="([^"]+)"|'
    r'name="csrf_token" value="([^"]+)"'
)


# The inquiry form's signed fill timer: a browser sends it back, and a form without it is spam.
_TIMER = re.compile(r'name="started" type="hidden" value="([^"]*)"')


def _token_in(html: str, page: str) -> str:
    match = _TOKEN.search(html)
    assert match, f"no CSRF token on {page}"
    return next(group for group in match.groups() if group)


def csrf_token(client: FlaskClient, page: str) -> str:
    return _token_in(client.get(page).get_data(as_text=True), page)


def post(
    client: FlaskClient, url: str, data: dict[str, Any], page: str = "/staff/leads"
) -> TestResponse:
    """POST `data` to `url` with the CSRF token from `page` (the console's lead list unless
    given), as a form on that page would; unlike `submit`, no other hidden field is sent."""
    return client.post(url, data={"csrf_token": csrf_token(client, page), **data})


def submit(
    client: FlaskClient, page: str, data: dict[str, Any], action: str | None = None, **kwargs: Any
) -> TestResponse:
    """GET `page` for its token (and its fill timer, if it has one), then POST `data` to
    `action` (default: the page itself), as a browser would."""
    html = client.get(page).get_data(as_text=True)
    hidden = {"csrf_token": _token_in(html, page)}
    if timer := _TIMER.search(html):
        hidden["started"] = timer.group(1)
    return client.post(action or page, data={**hidden, **data}, **kwargs)


class _FormReader(HTMLParser):
    """Collects what a browser would post for the page's forms, as the page filled them."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, list[str]] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def _add(self, name: str, value: str) -> None:
        self.values.setdefault(name, []).append(value)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        name = found.get("name")
        if tag == "input" and name:
            kind = found.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in found:
                    self._add(name, found.get("value", "on"))
            elif kind not in ("submit", "button"):
                self._add(name, found.get("value", ""))
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in found:
            self._add(self._select, found.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self._add(name, "")

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea][-1] += data.lstrip("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def filled_in(client: FlaskClient, page: str) -> dict[str, Any]:
    """The form on `page` as it stands, ready to change and post (without its CSRF token)."""
    reader = _FormReader()
    reader.feed(client.get(page).get_data(as_text=True))
    reader.values.pop("csrf_token", None)
    return {
        name: values if len(values) > 1 else values[0] for name, values in reader.values.items()
    }


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', html)
    return match.group(1) if match else ""


def as_the_browser_sends_it(client: FlaskClient) -> dict[str, str]:
    """The answers with every hidden field the form page carries (timer, one-time id)."""
    page = client.get("/inquire").text
    return {
        **inquiry(),
        "started": hidden(page, "started"),
        "submission_id": hidden(page, "submission_id"),
        "csrf_token": hidden(page, "csrf_token"),
    }
