"""The API reference a developer reads in a browser: every path and schema of openapi.json,
with what each needs, and no script (the site's Content-Security-Policy holds)."""

from __future__ import annotations

import re
from html import unescape

from flask.testing import FlaskClient

from app.services.integrations.keys import INQUIRIES_WRITE


def test_the_reference_shows_every_operation_and_schema_of_the_document(client: FlaskClient):
    spec = client.get("/api/v1/openapi.json").json
    response = client.get("/api/v1/reference")

    assert response.status_code == 200
    html = unescape(response.text)
    for path, item in spec["paths"].items():
        for method in set(item) - {"parameters"}:
            assert f"<code>{method.upper()} {path}</code>" in html
    for name in spec["components"]["schemas"]:
        assert f'id="schema-{name}"' in html
    assert 'href="/api/v1/openapi.json"' in html
    assert "<script" not in html and "style=" not in html


def test_an_endpoint_shows_its_scope_parameters_body_and_answers(client: FlaskClient):
    html = unescape(client.get("/api/v1/reference").text)
    inquiries = re.search(r'<article id="post-api-v1-inquiries".*?</article>', html, re.S)

    assert inquiries is not None
    section = inquiries.group(0)
    assert f"Needs a key with <code>{INQUIRIES_WRITE}</code>" in section
    assert "<code>Idempotency-Key</code>" in section
    assert 'Body (<code>application/json</code>): <a href="#schema-InquiryRequest">' in section
    assert '<th scope="row">422</th>' in section and "application/problem+json" in section


def test_the_key_pages_link_to_the_reference(staff_client: FlaskClient):
    assert 'href="/api/v1/reference"' in staff_client.get("/staff/api-keys").text
