"""What tests read back: a field's error message on a page, how many rows a table holds."""

from __future__ import annotations

import re
from html import unescape

from sqlalchemy import func, select

from app.extensions import db


def field_error(html: str, field: str) -> str:
    """The error shown next to a field (its id is the field name, or field-0 for a list)."""
    found = re.findall(rf'<p class="error" id="{field}(?:-0)?-error">(.*?)</p>', html)
    return unescape(" ".join(found))


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model))
