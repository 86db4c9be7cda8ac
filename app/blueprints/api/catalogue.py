"""What anyone may read: the procedures and the listed clinics, as the public pages show
them. No key needed; limited per address."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from app.blueprints.api.auth import per_key_limit
from app.blueprints.api.schemas import ClinicSchema, ProcedureSchema
from app.extensions import db
from app.models.base import utcnow
from app.services.clinics import catalog, directory

bp = Blueprint("api_catalogue", __name__, url_prefix="/api/v1", description="Catalogue")


@bp.get("/procedures")
@per_key_limit()
@bp.alt_response(429, response="TOO_MANY_REQUESTS")
@bp.response(200, ProcedureSchema(many=True))
def procedures() -> Any:
    """The procedures patients may ask about; an inquiry names one by its `slug`."""
    return catalog.procedures_by_name(db.session)


@bp.get("/clinics")
@per_key_limit()
@bp.alt_response(429, response="TOO_MANY_REQUESTS")
@bp.response(200, ClinicSchema(many=True))
def clinics() -> Any:
    """The listed clinics, as the public directory shows them; an inquiry may name one."""
    return directory.public_clinics(db.session, utcnow().date())
