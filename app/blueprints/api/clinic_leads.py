"""A clinic's system reads the clinic's inbox and answers its leads, as the portal does:
only the leads the portal shows the clinic, the patient's details only where the portal
would show them (each read audited), and answers by the portal's own forms and service.
A lead the clinic does not hold is a 404, the same as a lead that does not exist."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_smorest import Blueprint
from marshmallow import RAISE

from app.blueprints.api.auth import acting_clinic_user, keyed
from app.blueprints.api.schemas import (
    AnswerRequestSchema,
    AnswerSchema,
    ClinicInboxQuerySchema,
    ClinicLeadPageSchema,
)
from app.extensions import db
from app.forms.portal import ApiDeclineForm, ApiQuoteForm
from app.models import ClinicResponse
from app.services.answers import answering
from app.services.answers.business_hours import DeadlinePolicy
from app.services.integrations.keys import CLINIC_LEADS
from app.web.problems import refuse

bp = Blueprint(
    "api_clinic_leads", __name__, url_prefix="/api/v1/clinic", description="Leads (clinic)"
)

PER_PAGE = 50


@bp.get("/leads")
@keyed(bp, CLINIC_LEADS)
@bp.arguments(ClinicInboxQuerySchema, location="query", unknown=RAISE)
@bp.response(200, ClinicLeadPageSchema)
def leads(query: dict[str, Any]) -> Any:
    """Awaiting the clinic's answer first, then the rest, newest first, 50 a page
    (`next_page` is null on the last). `patient` holds what the patient sent where the
    clinic may read it, and each such read is an audit event."""
    page = query["page"]
    inbox = answering.read_inbox(
        db.session,
        acting_clinic_user().id,
        page,
        PER_PAGE,
        DeadlinePolicy.from_config(current_app.config),
    )
    return {"entries": inbox.entries, "next_page": page + 1 if inbox.more else None}


def _details(body: dict[str, Any]) -> dict[str, Any]:
    """What the answer needs besides its kind, checked by the portal's forms."""
    response = body["response"]
    if response is ClinicResponse.QUOTED:
        quote = ApiQuoteForm.from_json(body.get("quote") or {})
        if not quote.validate():
            refuse(422, message="The quote needs another look.", errors={"quote": quote.errors})
        return {"quote": quote.details()}
    if response is ClinicResponse.DECLINED:
        decline = ApiDeclineForm.from_json({"reason": body.get("reason")})
        if not decline.validate():
            refuse(422, message="Declining needs a reason.", errors=decline.errors)
        return {"reason": decline.reason.data}
    return {}


@bp.post("/leads/<int(max=2147483647):lead_id>/answer")
@keyed(bp, CLINIC_LEADS, 404)
@bp.arguments(AnswerRequestSchema, location="json")
@bp.response(200, AnswerSchema)
def answer(body: dict[str, Any], lead_id: int) -> Any:
    """`contacted`, `quoted` (with `quote`, by the portal's quote rules) or `declined` (with
    a `reason`; the lead then goes to the next clinic and leaves this inbox). The first yes
    moves the lead on and tells the patient, as an answer in the portal does."""
    user = acting_clinic_user()
    details = _details(body)
    try:
        assignment = answering.answer(
            db.session,
            lead_id,
            user.id,
            body["response"],
            max_clinics=current_app.config["ROUTING_MAX_CLINICS"],
            **details,
        )
    except LookupError:
        refuse(404, message="No such lead for this clinic.")
    return {
        "lead_id": lead_id,
        "response": assignment.response,
        "responded_at": assignment.responded_at,
    }
