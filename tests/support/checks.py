"""What tests read back: a field's error message on a page, how many rows a table holds,
the statements a page sends."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from html import unescape

from sqlalchemy import event, func, select

from app.extensions import db


def field_error(html: str, field: str) -> str:
    """The error shown next to a field (its id is the field name, or field-0 for a list)."""
    found = re.findall(rf'<p class="error" id="{field}(?:-0)?-error">(.*?)</p>', html)
    return unescape(" ".join(found))


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@contextmanager
def statements_run() -> Iterator[list[str]]:
    """The SQL statements the block sends to the database: a page that loads its rows in a
    fixed number of queries sends as many for two rows as for ten."""
    seen: list[str] = []

    def note(conn: object, cursor: object, statement: str, *args: object) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
