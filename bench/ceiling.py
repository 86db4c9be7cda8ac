"""The ceiling for a form on this stack: the same app, a CSRF-protected form, one row.

Served only by the benchmark (`bench.ceiling:create_bench_app()`), never by the product.
"""

from __future__ import annotations

from flask import Blueprint, Flask
from flask.typing import ResponseReturnValue
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert
from wtforms import StringField

from app import create_app
from app.extensions import db
from app.forms.base import AppForm

metadata = MetaData()
bench_rows = Table(
    "bench_rows",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("note", String(200), nullable=False),
)
bp = Blueprint("bench_ceiling", __name__, url_prefix="/bench")


class NoteForm(AppForm):
    note = StringField()


@bp.route("/form", methods=["GET", "POST"])
def form() -> ResponseReturnValue:
    note = NoteForm()
    if note.validate_on_submit():
        db.session.execute(insert(bench_rows).values(note=note.note.data or ""))
        db.session.commit()
        return "", 204
    return f'<form method="post">{note.csrf_token()}<input name="note"></form>'


def create_bench_table(database_url: str) -> None:
    """Made once, before the web server starts. Made by each gunicorn worker's app instead,
    two workers could both find it missing and both create it; the loser failed to boot and
    gunicorn stopped the whole server, after the other had already answered."""
    engine = create_engine(database_url)
    metadata.create_all(engine)
    engine.dispose()


def create_bench_app() -> Flask:
    app = create_app()
    app.register_blueprint(bp)
    return app
