"""The shapes the API documents and returns. Requests carry types only: the rules of an
inquiry or a quote are the page's form (`ApiInquiryForm`, `ApiQuoteForm`), so the API and
the page cannot disagree. Numbers are bounded by the columns that store them."""

from __future__ import annotations

from marshmallow import Schema, fields
from marshmallow.validate import Length, OneOf, Range, Regexp

from app.models import ClinicResponse, LeadStatus
from app.reference_data import QUOTE_PARTS
from app.services.answers.answering import Cover
from app.services.integrations.webhooks import EVENTS

# The largest id or amount a database integer column holds.
MAX_INT = 2**31 - 1


class ProblemSchema(Schema):
    type = fields.String()
    status = fields.Integer()
    title = fields.String()
    detail = fields.String()
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "per field"},
    )


class ProcedureSchema(Schema):
    slug = fields.String(required=True)
    name = fields.String(required=True)
    category = fields.String(required=True)
    synonyms = fields.List(fields.String(), required=True)


class OfferingSchema(Schema):
    procedure = fields.String(required=True, attribute="procedure.slug")
    price_min_usd = fields.Integer(allow_none=True, required=True)
    price_max_usd = fields.Integer(allow_none=True, required=True)


class ClinicSchema(Schema):
    slug = fields.String(required=True)
    name = fields.String(required=True)
    district = fields.String(required=True)
    city = fields.String(required=True)
    website = fields.String(allow_none=True, required=True)
    languages = fields.List(fields.String(), attribute="language_codes", required=True)
    offerings = fields.List(fields.Nested(OfferingSchema), required=True)


class InquiryRequestSchema(Schema):
    full_name = fields.String(required=True)
    email = fields.String(required=True)
    phone = fields.String(required=True)
    country = fields.String(required=True, metadata={"description": "ISO 3166-1 alpha-2"})
    language = fields.String(required=True, metadata={"description": "ISO 639-1"})
    procedure = fields.String(required=True, metadata={"description": "a procedure's slug"})
    clinic = fields.String(metadata={"description": "a listed clinic's slug"})
    message = fields.String(required=True)
    budget_usd = fields.Integer(allow_none=True)
    travel_from = fields.Date(allow_none=True)
    travel_to = fields.Date(allow_none=True)
    needs_interpreter = fields.Boolean()
    needs_visa_letter = fields.Boolean()
    needs_accommodation = fields.Boolean()
    has_mri = fields.Boolean()
    consent = fields.Boolean(
        required=True,
        metadata={"description": "the patient agreed to share it with the clinics matched"},
    )


class InquiryCreatedSchema(Schema):
    reference = fields.String(required=True)


def _id(description: str, *, allow_none: bool = False) -> fields.Integer:
    return fields.Integer(
        validate=Range(min=1, max=MAX_INT),
        allow_none=allow_none,
        metadata={"description": description},
    )


class LeadQuerySchema(Schema):
    """The console's filters (`/staff/leads`), named for a program."""

    status = fields.Enum(LeadStatus, by_value=True)
    procedure = fields.String(metadata={"description": "a procedure's slug"})
    country = fields.String(validate=Length(equal=2), metadata={"description": "ISO 3166-1"})
    language = fields.String(validate=Length(max=8))
    clinic_id = _id("routed to this clinic")
    assignee = fields.String(
        validate=Regexp(r"^(mine|unassigned|[1-9][0-9]{0,8})$"),
        metadata={"description": "`mine`, `unassigned` or a staff member's id"},
    )
    created_from = fields.Date()
    created_to = fields.Date(metadata={"description": "inclusive"})
    source = fields.String(
        validate=Regexp(r"^(web|api|partner|partner-[1-9][0-9]{0,8})$"),
        metadata={
            "description": "`web` (our form), `api` (a staff or clinic key), `partner` (any "
            "partner) or `partner-<id>` (one partner)"
        },
    )
    search = fields.String(
        validate=Length(max=200),
        metadata={"description": "a reference, email or phone, or the start of a name"},
    )
    cursor = fields.String(
        validate=Length(max=200), metadata={"description": "`next_cursor` of the page before"}
    )
    limit = fields.Integer(load_default=50, validate=Range(min=1, max=100))


class LeadSummarySchema(Schema):
    """What the console's list shows of a lead (no contact details, no message)."""

    id = fields.Integer(required=True)
    reference = fields.String(required=True)
    status = fields.Enum(LeadStatus, by_value=True, required=True)
    full_name = fields.String(required=True)
    country = fields.String(required=True)
    language = fields.String(required=True)
    procedure = fields.String(required=True, attribute="procedure.slug")
    source = fields.String(required=True)
    partner_id = fields.Integer(required=True, allow_none=True)
    assignee_id = fields.Integer(required=True, allow_none=True, attribute="assigned_to_id")
    no_matching_clinic = fields.Boolean(required=True)
    clinic_silent = fields.Boolean(required=True)
    processing_failed = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class LeadPageSchema(Schema):
    items = fields.List(fields.Nested(LeadSummarySchema), required=True, attribute="leads")
    next_cursor = fields.String(required=True, allow_none=True)


class PatientSchema(Schema):
    """What the patient sent: health data, every read of it audited."""

    full_name = fields.String(required=True)
    email = fields.String(required=True)
    phone = fields.String(required=True)
    country = fields.String(required=True)
    language = fields.String(required=True)
    message = fields.String(required=True)
    budget_usd = fields.Integer(required=True, allow_none=True)
    travel_from = fields.Date(required=True, allow_none=True)
    travel_to = fields.Date(required=True, allow_none=True)
    needs_interpreter = fields.Boolean(required=True)
    needs_visa_letter = fields.Boolean(required=True)
    needs_accommodation = fields.Boolean(required=True)
    has_mri = fields.Boolean(required=True)


class QuoteItemSchema(Schema):
    # Stored as its text in the quote's JSON, so a string of the enum's values.
    cover = fields.String(required=True, validate=OneOf([cover.value for cover in Cover]))
    price = fields.Integer(
        allow_none=True,
        validate=Range(min=0, max=MAX_INT),
        metadata={"description": "only for a part priced separately"},
    )


class QuoteSchema(Schema):
    price_min = fields.Integer(required=True, validate=Range(min=0, max=MAX_INT))
    price_max = fields.Integer(required=True, validate=Range(min=0, max=MAX_INT))
    currency = fields.String(required=True, validate=Length(equal=3))
    includes = fields.String(required=True)
    stay_nights = fields.Integer(required=True, validate=Range(min=0, max=MAX_INT))
    valid_until = fields.Date(required=True)
    note = fields.String()
    items = fields.Dict(
        keys=fields.String(validate=OneOf(list(QUOTE_PARTS))),
        values=fields.Nested(QuoteItemSchema),
        metadata={
            "description": "how the quote covers each standard part; one left out is not offered"
        },
    )


class AssignmentSchema(Schema):
    """A clinic the lead went to, and its answer."""

    clinic_id = fields.Integer(required=True)
    clinic = fields.String(required=True, attribute="clinic.name")
    rank = fields.Integer(required=True)
    awaiting_consent = fields.Boolean(
        required=True, metadata={"description": "offered; the patient has not yet agreed"}
    )
    sent_at = fields.DateTime(required=True, allow_none=True)
    viewed_at = fields.DateTime(required=True, allow_none=True)
    responded_at = fields.DateTime(required=True, allow_none=True)
    response = fields.Enum(ClinicResponse, by_value=True, required=True, allow_none=True)
    decline_reason = fields.String(required=True, allow_none=True)
    quote = fields.Nested(QuoteSchema, required=True, allow_none=True)
    expired_at = fields.DateTime(required=True, allow_none=True)
    revoked_at = fields.DateTime(required=True, allow_none=True)


class LeadDetailSchema(LeadSummarySchema, PatientSchema):
    """The console's lead page: the list's fields, what the patient sent, and the clinics."""

    lost_reason = fields.String(required=True, allow_none=True)
    treatment_date = fields.Date(required=True, allow_none=True)
    consent_withdrawn_at = fields.DateTime(required=True, allow_none=True)
    anonymised_at = fields.DateTime(required=True, allow_none=True)
    assignments = fields.List(fields.Nested(AssignmentSchema), required=True)


class LeadChangeSchema(Schema):
    status = fields.Enum(LeadStatus, by_value=True)
    reason = fields.String(
        validate=Length(max=2000), metadata={"description": "why the lead is lost (needed then)"}
    )
    assignee_id = _id("a staff member's id; null leaves the lead unassigned", allow_none=True)


class ClinicLeadSchema(Schema):
    """One line of a clinic's inbox, as the portal shows it."""

    lead_id = fields.Integer(required=True, attribute="assignment.lead_id")
    reference = fields.String(required=True, attribute="assignment.lead.reference")
    procedure = fields.String(required=True, attribute="assignment.lead.procedure.slug")
    country = fields.String(required=True, attribute="assignment.lead.country")
    awaiting_consent = fields.Boolean(
        required=True,
        attribute="assignment.awaiting_consent",
        metadata={"description": "offered; until the patient agrees, no details"},
    )
    response = fields.Enum(
        ClinicResponse,
        by_value=True,
        required=True,
        allow_none=True,
        attribute="assignment.response",
    )
    expired_at = fields.DateTime(
        required=True,
        allow_none=True,
        attribute="assignment.expired_at",
        metadata={"description": "the deadline passed; the lead went to another clinic"},
    )
    answer_due_at = fields.DateTime(required=True, allow_none=True)
    patient = fields.Nested(
        PatientSchema,
        required=True,
        allow_none=True,
        metadata={"description": "null until the patient agrees, and once the lead is gone"},
    )


class ClinicLeadPageSchema(Schema):
    items = fields.List(fields.Nested(ClinicLeadSchema), required=True, attribute="entries")
    next_page = fields.Integer(required=True, allow_none=True)


class ClinicInboxQuerySchema(Schema):
    page = fields.Integer(load_default=1, validate=Range(min=1, max=10_000))


class AnswerRequestSchema(Schema):
    response = fields.Enum(ClinicResponse, by_value=True, required=True)
    quote = fields.Nested(QuoteSchema, metadata={"description": "for `quoted`"})
    reason = fields.String(metadata={"description": "for `declined` (staff read it)"})


class AnswerSchema(Schema):
    lead_id = fields.Integer(required=True)
    response = fields.Enum(ClinicResponse, by_value=True, required=True)
    responded_at = fields.DateTime(required=True)


class WebhookRequestSchema(Schema):
    url = fields.String(required=True, validate=Length(max=2000))
    events = fields.List(
        fields.String(validate=OneOf(EVENTS)),
        required=True,
        validate=Length(min=1),
    )


class WebhookSchema(Schema):
    id = fields.Integer(required=True)
    url = fields.String(required=True)
    events = fields.List(fields.String(), required=True)
    created_at = fields.DateTime(required=True)
    failing_since = fields.DateTime(allow_none=True, required=True)
    disabled_at = fields.DateTime(allow_none=True, required=True)


class NewWebhookSchema(WebhookSchema):
    secret = fields.String(
        required=True, metadata={"description": "whsec_…: verify signatures with it; shown once"}
    )


class DeliverySchema(Schema):
    id = fields.Integer(required=True)
    message_id = fields.String(required=True)
    event = fields.String(required=True)
    status = fields.Function(lambda d: d.status.value, required=True)
    attempts = fields.Integer(required=True)
    last_status_code = fields.Integer(allow_none=True, required=True)
    last_error = fields.String(allow_none=True, required=True)
    created_at = fields.DateTime(required=True)
    delivered_at = fields.DateTime(allow_none=True, required=True)
