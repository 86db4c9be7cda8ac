"""Readable error pages, the CSRF refusal explained, and the API's errors as problem
documents."""

from __future__ import annotations

from flask import Flask, render_template, request
from flask.globals import request_ctx
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.web.problems import problem

PAGES = {400, 403, 404, 405, 413, 429, 500}
# The JSON API answers every error as a problem document, never as a page.
API_PREFIX = "/api/"


def _render(error: HTTPException) -> ResponseReturnValue:
    code = error.code or 500
    if request.path.startswith(API_PREFIX):
        return problem(error)
    if code not in PAGES:
        return error.get_response()
    if request_ctx.url_adapter is None:
        # The Host header was not trusted, so no URL can be built: answer plainly.
        return error.get_response()
    return render_template("errors/error.html", code=code, error=error), code


def _csrf(error: CSRFError) -> ResponseReturnValue:
    return render_template("errors/error.html", code=400, error=error, csrf=True), 400


def register(app: Flask) -> None:
    app.register_error_handler(HTTPException, _render)
    app.register_error_handler(CSRFError, _csrf)
