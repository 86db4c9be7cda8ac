"""The API's reference to read in a browser, beside `openapi.json`, drawn on the server from
that same document, so the two never disagree. No script and nothing fetched from elsewhere
(a documentation bundle would need both, and the site's Content-Security-Policy allows
neither). In English, as the API's own messages are: its readers are developers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import cycle
from typing import Any

from flask import Blueprint, current_app, render_template
from flask.typing import ResponseReturnValue
from markupsafe import Markup, escape

from app.blueprints.api import PREFIX, api
from app.services.integrations import keys
from app.services.integrations.webhooks import EVENTS

bp = Blueprint("api_reference", __name__)

METHODS = ("get", "post", "put", "patch", "delete")
# What each scope lets a key do, and who may hold it (`keys.*_SCOPES`).
SCOPES = {
    keys.INQUIRIES_WRITE: "send patients' inquiries (partners, staff)",
    keys.LEADS_READ: "list and read leads as the console does (staff)",
    keys.LEADS_WRITE: "change a lead's status and assignee (staff)",
    keys.CLINIC_LEADS: "read the clinic's leads and answer them (clinics)",
    keys.WEBHOOKS: "manage the owner's webhooks (partners, clinics)",
}


@dataclass(frozen=True)
class Field:
    name: str
    where: str
    required: bool
    type: Markup
    description: Markup


@dataclass(frozen=True)
class Reply:
    status: str
    description: str
    media_type: str
    type: Markup


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    description: Markup
    scopes: list[str]
    parameters: list[Field]
    body: Markup | None
    replies: list[Reply]

    @property
    def anchor(self) -> str:
        return f"{self.method.lower()}-" + re.sub(r"[^a-z0-9]+", "-", self.path.lower()).strip("-")


@dataclass(frozen=True)
class Section:
    name: str
    operations: list[Operation]


@bp.get(f"{PREFIX}/reference")
def reference() -> ResponseReturnValue:
    spec = api.spec.to_dict()
    schemas = spec["components"]["schemas"]
    return render_template(
        "api/reference.html",
        info=spec["info"],
        sections=_sections(spec),
        schemas={name: _fields(schema) for name, schema in schemas.items()},
        scopes=SCOPES,
        events=EVENTS,
        rate_limit=current_app.config["API_RATE_LIMIT"],
    )


def _sections(spec: dict[str, Any]) -> list[Section]:
    sections = {tag["name"]: Section(tag["description"], []) for tag in spec["tags"]}
    for path, item in spec["paths"].items():
        shared = item.get("parameters", [])
        for method in METHODS:
            if method in item:
                operation = _operation(spec, method, path, item[method], shared)
                sections[item[method]["tags"][0]].operations.append(operation)
    return [section for section in sections.values() if section.operations]


def _operation(
    spec: dict[str, Any], method: str, path: str, doc: dict[str, Any], shared: list[Any]
) -> Operation:
    body = doc.get("requestBody", {}).get("content", {}).get("application/json")
    return Operation(
        method=method.upper(),
        path=path,
        summary=doc.get("summary", ""),
        description=prose(doc.get("description", "")),
        scopes=[scope for need in doc.get("security", []) for scope in need.get("bearer", [])],
        parameters=[
            Field(
                p["name"],
                p["in"],
                p.get("required", False),
                _type(p.get("schema", {})),
                prose(p.get("description", "")),
            )
            for p in [*shared, *doc.get("parameters", [])]
        ],
        body=_type(body["schema"]) if body else None,
        replies=[_reply(spec, status, reply) for status, reply in doc["responses"].items()],
    )


def _reply(spec: dict[str, Any], status: str, reply: dict[str, Any]) -> Reply:
    if "$ref" in reply:
        reply = spec["components"]["responses"][reply["$ref"].rsplit("/", 1)[1]]
    [(media_type, content)] = reply.get("content", {"": {}}).items()
    schema = content.get("schema")
    return Reply(status, reply["description"], media_type, _type(schema) if schema else Markup(""))


def _fields(schema: dict[str, Any]) -> list[Field]:
    required = set(schema.get("required", []))
    return [
        Field(name, "", name in required, _type(field), prose(field.get("description", "")))
        for name, field in schema.get("properties", {}).items()
    ]


def _type(schema: dict[str, Any]) -> Markup:
    """A schema in a few words, each named schema a link to its fields."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return Markup('<a href="#schema-{0}">{0}</a>').format(name)
    if "anyOf" in schema or "oneOf" in schema:
        return Markup(" or ").join(_type(s) for s in schema.get("anyOf") or schema["oneOf"])
    if "enum" in schema:
        values = [Markup("<code>{}</code>").format(_json(v)) for v in schema["enum"]]
        return Markup("one of ") + Markup(", ").join(values)
    kinds = schema.get("type", "any")
    words = [_kind(schema, kind) for kind in (kinds if isinstance(kinds, list) else [kinds])]
    return Markup(" or ").join(words) + _rules(schema)


def _kind(schema: dict[str, Any], kind: str) -> Markup:
    if kind == "array":
        return Markup("array of ") + _type(schema.get("items", {}))
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return Markup("object of ") + _type(schema["additionalProperties"])
    if "format" in schema and kind != "null":
        return escape(f"{kind} ({schema['format']})")
    return escape(kind)


def _rules(schema: dict[str, Any]) -> Markup:
    rules = [
        f"{word} {schema[key]}"
        for key, word in (
            ("minLength", "at least"),
            ("maxLength", "at most"),
            ("minimum", "from"),
            ("maximum", "to"),
        )
        if key in schema
    ]
    if "pattern" in schema:
        rules.append(f"matching {schema['pattern']}")
    return escape(f"; {', '.join(rules)}") if rules else Markup("")


def _json(value: Any) -> str:
    return "null" if value is None else str(value)


@bp.app_template_filter("backticks")
def prose(text: str) -> Markup:
    """Descriptions mark code with backticks, as the docstrings they come from do."""
    parts = text.strip().split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick: no code marks at all
        return escape(text.strip())
    return Markup("").join(
        Markup("<code>{}</code>").format(part) if odd else escape(part)
        for odd, part in zip(cycle((False, True)), parts, strict=False)
    )
