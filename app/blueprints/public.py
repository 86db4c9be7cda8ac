"""The public front page and the health endpoints."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template
from flask.typing import ResponseReturnValue

from app.extensions import db
from app.health import broker_ok, database_ok
from app.services.answers.business_hours import DeadlinePolicy

bp = Blueprint("public", __name__)


@bp.get("/")
def index() -> ResponseReturnValue:
    answer_days = DeadlinePolicy.from_config(current_app.config).answer_working_days()
    return render_template("public/index.html", answer_days=answer_days)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """The process is up; says nothing about its dependencies."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    checks = {
        "database": database_ok(db.session),
        "broker": broker_ok(current_app.extensions["celery"]),
    }
    down = sorted(name for name, ok in checks.items() if not ok)
    status = 503 if down else 200
    return jsonify(status="unavailable" if down else "ok", checks=checks, down=down), status
