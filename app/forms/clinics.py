"""The clinic application form. Its field names stay as they are (partner sites and
scripts post them): add fields, never rename one."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import BooleanField, SelectChoice, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from app.extensions import db
from app.forms.base import AppForm
from app.forms.choices import language_choices
from app.forms.fields import CheckboxListField
from app.forms.validators import (
    AtLeastOne,
    EmailAddress,
    KoreanBusinessNumber,
    PhoneNumber,
    WebsiteURL,
)
from app.models import Procedure
from app.reference_data import ACCREDITATIONS
from app.services.clinics.onboarding import ClinicApplication, email_in_use, registration_in_use


def _required(message: Any) -> DataRequired:
    return DataRequired(message=message)


class ClinicApplicationForm(AppForm):
    clinic_name = StringField(
        _l("Clinic name"),
        validators=[_required(_l("Please enter the clinic's name.")), Length(max=200)],
    )
    contact_name = StringField(
        _l("Contact person"),
        validators=[_required(_l("Please tell us who we should contact.")), Length(max=200)],
    )
    email = StringField(
        _l("Email"), validators=[_required(_l("Please enter an email address.")), EmailAddress()]
    )
    phone = StringField(
        _l("Phone"),
        validators=[_required(_l("Please enter a phone number.")), PhoneNumber(region="KR")],
    )
    website = StringField(_l("Website"), validators=[WebsiteURL()])
    address = StringField(
        _l("Street address"),
        validators=[_required(_l("Please enter the street address.")), Length(max=500)],
    )
    district = StringField(
        _l("District (gu)"),
        validators=[_required(_l("Please enter the district, like Gangnam-gu.")), Length(max=100)],
    )
    city = StringField(
        _l("City"),
        default="Seoul",
        validators=[_required(_l("Please enter the city.")), Length(max=100)],
    )
    registration_number = StringField(
        _l("Business registration number"),
        validators=[
            _required(_l("Please enter the business registration number.")),
            KoreanBusinessNumber(),
        ],
    )
    license_number = StringField(
        _l("Medical institution licence number"),
        validators=[
            _required(_l("Please enter the medical institution licence number.")),
            Length(max=100),
        ],
    )
    languages = CheckboxListField(
        _l("Languages your staff speak with patients"),
        validators=[AtLeastOne(_l("Please choose at least one language."))],
    )
    procedures = CheckboxListField(
        _l("Procedures you offer"),
        validators=[AtLeastOne(_l("Please choose at least one procedure you offer."))],
    )
    accreditations = CheckboxListField(_l("Accreditations"))
    description = TextAreaField(
        _l("About the clinic"),
        validators=[
            Length(max=5000, message=_l("Please keep the description under 5,000 characters."))
        ],
    )
    terms = BooleanField(
        _l("I confirm these details are correct and accept the listing terms."),
        validators=[_required(_l("Please accept the listing terms to apply."))],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.languages.choices = language_choices()
        self.accreditations.choices = [
            SelectChoice(code, str(label)) for code, label in ACCREDITATIONS.items()
        ]
        self.procedures.choices = [
            SelectChoice(p.slug, p.label)
            for p in db.session.scalars(
                select(Procedure).order_by(Procedure.category, Procedure.name)
            )
        ]

    EMAIL_TAKEN = _l(
        "A clinic with this email address has already applied or is listed. "
        "Please use another address, or write to us if this is your clinic."
    )

    REGISTRATION_TAKEN = _l(
        "A clinic with this business registration number has already applied or is listed. "
        "If this is your clinic, please write to us instead of applying again."
    )

    def validate_email(self, field: StringField) -> None:
        if email_in_use(db.session, field.data):
            raise ValidationError(self.EMAIL_TAKEN)

    def validate_registration_number(self, field: StringField) -> None:
        """One business, one listing: a number already pending, approved or suspended is
        refused here, where the applicant can see why."""
        if field.errors:
            return  # not a valid number, already said; nothing to look up
        if registration_in_use(db.session, field.data):
            raise ValidationError(self.REGISTRATION_TAKEN)

    def to_application(self) -> ClinicApplication:
        return ClinicApplication(
            clinic_name=self.clinic_name.data.strip(),
            contact_name=self.contact_name.data.strip(),
            email=self.email.data,
            phone=self.phone.data,
            website=self.website.data,
            address=self.address.data.strip(),
            district=self.district.data.strip(),
            city=self.city.data.strip(),
            registration_number=self.registration_number.data,
            license_number=self.license_number.data.strip(),
            languages=list(self.languages.data),
            procedures=list(self.procedures.data),
            accreditations=list(self.accreditations.data or []),
            description=(self.description.data or "").strip(),
        )
