"""Field validators backed by maintained libraries; each normalises the value it accepts."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from stdnum.exceptions import ValidationError as NumberError
from stdnum.kr import brn
from wtforms import Field, Form
from wtforms.validators import ValidationError

from app.services.clinics.onboarding import brn_check_digit


class EmailAddress:
    """A deliverable-looking address, normalised; no DNS look-up (fast, works offline)."""

    def __call__(self, form: Form, field: Field) -> None:
        try:
            result = validate_email(field.data or "", check_deliverability=False)
        except EmailNotValidError as exc:
            raise ValidationError(
                _l("Please enter a valid email address, like name@example.com.")
            ) from exc
        field.data = result.normalized.lower()


class PhoneNumber:
    """A valid phone number, stored in E.164; numbers without a country code use `region`."""

    def __init__(
        self, region: str | None = None, region_field: str | None = None, message: Any = None
    ) -> None:
        self.region = region
        self.region_field = region_field
        self.message = message or _l(
            "Please enter a valid phone number, including the country code (like +82 2 1234 5678)."
        )

    def __call__(self, form: Form, field: Field) -> None:
        region = self.region
        if self.region_field:
            # A number typed without "+": read it as a number of the country chosen above.
            region = (getattr(form, self.region_field).data or "").upper() or None
        try:
            number = phonenumbers.parse(field.data or "", region)
        except phonenumbers.NumberParseException as exc:
            raise ValidationError(self.message) from exc
        if not phonenumbers.is_valid_number(number):
            raise ValidationError(self.message)
        field.data = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class KoreanBusinessNumber:
    """Ten digits (dashes allowed) whose last digit is the check digit."""

    def __call__(self, form: Form, field: Field) -> None:
        message = _l(
            "Please enter the 10-digit business registration number (사업자등록번호), "
            "like 123-45-67890. Please check the digits: this number is not valid."
        )
        try:
            number = brn.validate(field.data or "")
        except NumberError as exc:
            raise ValidationError(message) from exc
        if brn_check_digit(number[:9]) != int(number[9]):
            raise ValidationError(message)
        field.data = number


class WebsiteURL:
    """An http(s) address; "clinic.example" is read as "https://clinic.example"."""

    def __call__(self, form: Form, field: Field) -> None:
        value = (field.data or "").strip()
        if not value:
            field.data = None
            return
        if "://" not in value:
            value = f"https://{value}"
        parts = urlsplit(value)
        host = parts.hostname or ""
        if parts.scheme not in ("http", "https") or "." not in host or " " in value:
            raise ValidationError(
                _l("Please enter the website address, like https://clinic.example.")
            )
        field.data = value


class AtLeastOne:
    """A multiple choice needs one answer; unlike InputRequired it does not mark every
    checkbox `required` (which would ask the browser to tick them all)."""

    def __init__(self, message: Any) -> None:
        self.message = message

    def __call__(self, form: Form, field: Field) -> None:
        if not field.data:
            raise ValidationError(self.message)
