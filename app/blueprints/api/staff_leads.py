"""Staff systems read and triage leads as the console does, through the console's services:
the same filters and pages, a lead's read audited as the console's lead page audits it, and
every change through the life cycle, audited with the key's staff member."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import RAISE

from app.blueprints.api.auth import acting_staff, keyed
from app.blueprints.api.schemas import (
    LeadChangeSchema,
    LeadDetailSchema,
    LeadPageSchema,
    LeadQuerySchema,
    LeadSummarySchema,
)
from app.extensions import db
from app.models import Lead
from app.services.integrations.keys import LEADS_READ, LEADS_WRITE
from app.services.leads import actions
from app.services.leads.queries import LeadFilters, list_leads
from app.web.problems import refuse

bp = Blueprint("api_staff_leads", __name__, url_prefix="/api/v1", description="Leads (staff)")

LEAD = "/leads/<int(max=2147483647):lead_id>"


def _filters(query: dict[str, Any]) -> LeadFilters:
    status, country = query.get("status"), query.get("country")
    return LeadFilters(
        status=status.value if status else None,
        procedure=query.get("procedure"),
        country=country.upper() if country else None,
        language=query.get("language"),
        clinic_id=query.get("clinic_id"),
        assignee=query.get("assignee"),
        created_from=query.get("created_from"),
        created_to=query.get("created_to"),
        search=query.get("search"),
        source=query.get("source"),
    )


@bp.get("/leads")
@keyed(bp, LEADS_READ)
# A parameter the document does not name is refused: a misspelt filter would list every lead.
@bp.arguments(LeadQuerySchema, location="query", unknown=RAISE)
@bp.response(200, LeadPageSchema)
def leads(query: dict[str, Any]) -> Any:
    """Newest first, as the console lists them; `next_cursor` is null on the last page.
    No contact details or message here, so listing is not a read of health data."""
    return list_leads(
        db.session,
        _filters(query),
        acting_staff().id,
        cursor=query.get("cursor"),
        page_size=query["limit"],
    )


@bp.get(LEAD)
@keyed(bp, LEADS_READ, 404)
@bp.response(200, LeadDetailSchema)
def lead(lead_id: int) -> Any:
    """What the patient sent and each clinic's answer; the read is an audit event with the
    key's staff member, as opening the console's lead page is."""
    staff = acting_staff()
    lead = db.session.get(Lead, lead_id)
    if lead is None:
        refuse(404, message="No such lead.")
    actions.record_view(db.session, lead.id, staff.id)
    return lead


@bp.patch(LEAD)
@keyed(bp, LEADS_WRITE, 404, 409)
@bp.arguments(LeadChangeSchema, location="json")
@bp.response(200, LeadSummarySchema)
def change(body: dict[str, Any], lead_id: int) -> Any:
    """A new `status` (through the life cycle: a move it refuses is a 409 saying why; `lost`
    needs a `reason`) and/or `assignee_id`, together or not at all."""
    try:
        return actions.update_lead(
            db.session,
            lead_id,
            acting_staff().id,
            status=body.get("status"),
            reason=body.get("reason"),
            reassign="assignee_id" in body,
            assignee_id=body.get("assignee_id"),
        )
    except LookupError:
        refuse(404, message="No such lead.")
    except actions.ActionRefused as refused:
        refuse(409, message=str(refused))
