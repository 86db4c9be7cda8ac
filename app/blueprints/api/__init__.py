"""The JSON API under /api/v1: documented from this code (flask-smorest writes the OpenAPI
document at /api/v1/openapi.json), keys as `Authorization: Bearer <key>`, errors as problem
documents (`app/web/problems.py`), no cookies and no CSRF token (a key is not ambient)."""

from __future__ import annotations

import http
from http import HTTPStatus
from typing import Any

from flask import Flask
from flask_smorest import Api
from flask_smorest.utils import prepare_response

from app.blueprints.api.schemas import ProblemSchema
from app.extensions import csrf
from app.web.problems import MEDIA_TYPE

PREFIX = "/api/v1"


class CareRouteApi(Api):
    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        """The app's own handler answers API errors as problem documents (`app/web/errors`)."""

    def _register_responses(self) -> None:
        """Each error is documented as it is served: a problem document, by its media type."""
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= HTTPStatus.BAD_REQUEST:
                response["schema"] = ProblemSchema
            prepare_response(response, self.spec, MEDIA_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        default = {"description": "Default error response", "schema": ProblemSchema}
        prepare_response(default, self.spec, MEDIA_TYPE)
        self.spec.components.response("DEFAULT_ERROR", default, lazy=True)


api = CareRouteApi()


def register(app: Flask) -> None:
    from app.blueprints.api import (
        catalogue,
        clinic_leads,
        inquiries,
        reference,
        staff_leads,
        webhooks,
    )

    app.config.update(
        API_TITLE="CareRoute API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX=PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
    )
    api.init_app(app)
    api.spec.components.security_scheme(
        "bearer", {"type": "http", "scheme": "bearer", "description": "cr_<prefix>_<secret>"}
    )
    for module in (catalogue, inquiries, staff_leads, clinic_leads, webhooks):
        csrf.exempt(module.bp)
        api.register_blueprint(module.bp)
    app.register_blueprint(reference.bp)
