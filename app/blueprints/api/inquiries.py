"""A partner's or staff member's system sends a patient's inquiry.

The body is checked by the inquiry form itself (`ApiInquiryForm`), so a rule changed on the
page holds here too. An `Idempotency-Key` makes a retry answer with the first inquiry: it
becomes the lead's submission id, which intake already keeps unique.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import current_app, request
from flask_smorest import Blueprint

from app.blueprints.api.auth import current_key, keyed
from app.blueprints.api.schemas import InquiryCreatedSchema, InquiryRequestSchema
from app.extensions import db
from app.forms.inquiry import ApiInquiryForm
from app.services.integrations.keys import INQUIRIES_WRITE
from app.services.leads.intake import submit_inquiry
from app.web.problems import refuse

bp = Blueprint("api_inquiries", __name__, url_prefix="/api/v1", description="Inquiries")


@bp.post("/inquiries")
@keyed(bp, INQUIRIES_WRITE)
@bp.arguments(InquiryRequestSchema, location="json")
@bp.response(201, InquiryCreatedSchema)
@bp.doc(
    parameters=[
        {
            "in": "header",
            "name": "Idempotency-Key",
            "schema": {"type": "string", "maxLength": 200},
            "description": "the same key and body again answer with the first inquiry",
        }
    ],
)
def create(body: dict[str, Any]) -> Any:
    """Send a patient's inquiry; it becomes a lead and is routed as one from the site is.

    The fields and rules are the inquiry form's; a field it refuses is named in the 422's
    `errors`. With an `Idempotency-Key`, a retry answers with the first inquiry's
    reference and makes no second lead."""
    form = ApiInquiryForm.from_json(body)
    if not form.validate():
        refuse(422, message="Some fields need another look.", errors=form.errors)
    key = current_key()
    retry = request.headers.get("Idempotency-Key", "")[:200]
    submitted = submit_inquiry(
        db.session,
        form.to_inquiry(
            "partner" if key.partner_id else "api",
            partner_id=key.partner_id,
            api_key_id=key.id,
            submission_id=hashlib.sha256(f"{key.id}:{retry}".encode()).hexdigest()
            if retry
            else None,
        ),
        None,
        current_app.config["UPLOAD_DIR"],
    )
    return {"reference": submitted.reference}
