"""The shapes the API documents and returns. Requests carry types only: the rules of an
inquiry are the inquiry form's (`ApiInquiryForm`), so the API and the page cannot disagree."""

from __future__ import annotations

from marshmallow import Schema, fields


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
