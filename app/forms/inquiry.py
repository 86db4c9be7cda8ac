"""The patient inquiry form. Partner sites post it directly, so its field names stay as
they are: add fields, never rename one."""

from __future__ import annotations

import secrets
import time
from dataclasses import replace
from datetime import date
from functools import cache
from typing import Any

import pycountry
from babel import Locale
from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from app.extensions import db
from app.forms.base import AppForm, FromJson
from app.forms.choices import language_choices
from app.forms.fields import ListChoiceField
from app.forms.uploads import checked_upload
from app.forms.validators import EmailAddress, PhoneNumber
from app.models import Procedure
from app.models.base import utcnow
from app.reference_data import CATEGORY_LABELS, procedure_name, procedure_synonyms
from app.services.clinics.directory import public_clinic
from app.services.leads.intake import Inquiry, Upload


@cache
def country_choices(locale: str) -> tuple[SelectChoice, ...]:
    """ISO 3166 countries named in the reader's language (CLDR, through Babel), sorted once
    per language and process, not on every request."""
    names = Locale.parse(locale).territories
    return tuple(
        sorted(
            (SelectChoice(c.alpha_2, names.get(c.alpha_2, c.name)) for c in pycountry.countries),
            key=lambda choice: choice.label,
        )
    )


@cache
def country_codes(locale: str) -> frozenset[str]:
    """What the country field accepts: the codes of `country_choices`, and "" (the
    "Choose…" option, which the field's own required check refuses)."""
    return frozenset({"", *(choice.value for choice in country_choices(locale))})


# The catalog changes with `flask catalog load`, not between one inquiry and the next.
CATALOG_CACHE_SECONDS = 60.0


def procedure_choices() -> list[SelectChoice]:
    """In category order, each under its category's name (WTForms groups consecutive
    options, and the rows come sorted by category); each label lists the other names
    patients know it by.

    Kept per app and locale for a minute: reading the catalogue on every form cost an
    inquiry POST a statement and a tenth of its time, and translating its category names
    another twentieth."""
    cached = current_app.extensions.setdefault("careroute.procedure_choices", {})
    locale = str(get_locale())
    until, choices = cached.get(locale, (0.0, []))
    if until < time.monotonic():
        choices = []
        rows = db.session.execute(
            select(Procedure.slug, Procedure.name, Procedure.category, Procedure.synonyms).order_by(
                Procedure.category, Procedure.name
            )
        )
        for slug, stored_name, category, stored_synonyms in rows:
            name = procedure_name(slug, stored_name)
            synonyms = procedure_synonyms(slug, stored_synonyms)
            label = f"{name} ({', '.join(synonyms[:3])})" if synonyms else name
            category_label = str(CATEGORY_LABELS.get(category, category))
            choices.append(SelectChoice(slug, label, optgroup=category_label))
        cached[locale] = (time.monotonic() + CATALOG_CACHE_SECONDS, choices)
    return choices


def _check_travel_date(field: DateField) -> None:
    """A real date, not in the past (WTForms' own parse error is replaced by a kinder one)."""
    if field.raw_data and field.raw_data[0] and field.data is None:
        field.errors.clear()
        raise ValidationError(_l("Please choose a real date, like 2027-03-14."))
    if field.data and field.data < date.today():
        raise ValidationError(_l("Please choose a date from today on."))


def _started_serializer() -> URLSafeSerializer:
    return _timer_serializer(current_app.config["SECRET_KEY"])


@cache
def _timer_serializer(secret_key: str) -> URLSafeSerializer:
    """Made once per key: making one (its signer, its JSON dumper) took as long as
    checking the timer with it."""
    return URLSafeSerializer(secret_key, salt="careroute.form-started")


class InquiryForm(AppForm):
    full_name = StringField(
        _l("Your full name"),
        validators=[DataRequired(_l("Please tell us your name.")), Length(max=200)],
    )
    email = StringField(
        _l("Email"),
        validators=[DataRequired(_l("Please enter your email address.")), EmailAddress()],
    )
    country = ListChoiceField(
        _l("Country you live in"),
        invalid=_l("Please choose your country from the list."),
        validators=[DataRequired(_l("Please choose the country you live in."))],
    )
    phone = StringField(
        _l("Phone or WhatsApp number"),
        validators=[
            DataRequired(_l("Please enter a phone number so the clinic can reach you.")),
            PhoneNumber(region_field="country"),
        ],
    )
    language = ListChoiceField(
        _l("Language you would like to be answered in"),
        invalid=_l("Please choose a language from the list."),
        validators=[DataRequired(_l("Please choose a language."))],
    )
    procedure = ListChoiceField(
        _l("Treatment you are asking about"),
        invalid=_l("Please choose a treatment from the list."),
        validators=[DataRequired(_l("Please choose the treatment you are asking about."))],
    )
    clinic = HiddenField()
    message = TextAreaField(
        _l("Your question"),
        validators=[
            DataRequired(_l("Please tell us a little about your situation.")),
            Length(
                min=20,
                max=5000,
                message=_l(
                    "Please write between 20 and 5,000 characters, so the clinic understands "
                    "your situation."
                ),
            ),
        ],
    )
    budget_usd = IntegerField(
        _l("Budget in US dollars (optional)"),
        validators=[
            Optional(),
            NumberRange(min=1, message=_l("Please enter the budget as a whole number above 0.")),
        ],
    )
    travel_from = DateField(_l("Could travel from (optional)"), validators=[Optional()])
    travel_to = DateField(_l("Until (optional)"), validators=[Optional()])
    needs_interpreter = BooleanField(_l("I would like an interpreter"))
    needs_visa_letter = BooleanField(_l("I need a letter for my visa"))
    needs_accommodation = BooleanField(_l("I would like help with accommodation"))
    has_mri = BooleanField(_l("I have an MRI or X-ray report"))
    attachment = FileField(_l("Attach your MRI report or an image (optional)"))
    consent = BooleanField(
        _l(
            "I agree that CareRoute shares my health information with the clinics matched to "
            "my question, so they can answer me."
        ),
        validators=[
            DataRequired(
                _l(
                    "We can only pass your question to clinics with your "
                    "agreement. Please tick the box."
                )
            )
        ],
    )
    # Left empty by people (it is hidden); bots fill it in.
    nickname = StringField(_l("Leave this field empty"))
    started = HiddenField()
    submission_id = HiddenField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        locale = str(get_locale())
        choose = SelectChoice("", _l("Choose…"))
        self.country.choices = [choose, *country_choices(locale)]
        self.country.values = country_codes(locale)
        self.language.choices = [choose, *language_choices()]
        self.procedure.choices = [choose, *procedure_choices()]
        if not self.is_submitted():
            self.started.data = _started_serializer().dumps(time.time())
            self.submission_id.data = secrets.token_urlsafe(16)
        self._content_type: str | None = None

    # Messages a patient understands, instead of WTForms' technical ones.
    def validate_budget_usd(self, field: IntegerField) -> None:
        if field.raw_data and field.raw_data[0] and field.data is None:
            field.errors.clear()
            raise ValidationError(_l("Please enter the budget as a whole number above 0."))

    def validate_travel_from(self, field: DateField) -> None:
        _check_travel_date(field)

    def validate_travel_to(self, field: DateField) -> None:
        _check_travel_date(field)
        if field.data and self.travel_from.data and field.data <= self.travel_from.data:
            raise ValidationError(_l("Please choose an end date after the start date."))

    def validate_clinic(self, field: HiddenField) -> None:
        """Only a clinic listed in the directory may be chosen (a partner site may post
        any slug, and a clinic can be suspended or let its licence lapse after a patient
        opened its page). The refused choice is dropped, so sending the form again goes
        to the matched clinics instead of being refused again."""
        if field.data and public_clinic(db.session, field.data, utcnow().date()) is None:
            field.data = ""
            raise ValidationError(
                _l(
                    "This clinic is not taking inquiries through CareRoute at the moment. "
                    "Please send your question again: we will pass it to other clinics "
                    "that fit."
                )
            )

    def validate_attachment(self, field: FileField) -> None:
        upload = field.data
        if not upload or not getattr(upload, "filename", ""):
            field.data = None
            return
        self._content_type = checked_upload(upload).content_type

    def spam_reason(self) -> str | None:
        """Why the submission looks automated, or None.

        A form without its timer took no time we can show, so it counts as filled too fast:
        a bot that strips hidden fields must not skip the check a person passes."""
        if self.nickname.data:
            return "honeypot"
        filled_for = 0.0
        if self.started.data:
            try:
                started = float(_started_serializer().loads(self.started.data))
            except (BadSignature, ValueError):
                return "tampered-timer"
            filled_for = time.time() - started
        if filled_for < current_app.config["INQUIRY_MIN_FILL_SECONDS"]:
            return "too-fast"
        return None

    def to_inquiry(self, source: str, **origin: Any) -> Inquiry:
        """`origin`: the partner, key and submission id of an inquiry sent from elsewhere."""
        inquiry = Inquiry(
            full_name=self.full_name.data.strip(),
            email=self.email.data,
            phone=self.phone.data,
            country=self.country.data,
            language=self.language.data,
            procedure_slug=self.procedure.data,
            clinic_slug=self.clinic.data or None,
            message=self.message.data.strip(),
            budget_usd=self.budget_usd.data,
            travel_from=self.travel_from.data,
            travel_to=self.travel_to.data,
            needs_interpreter=self.needs_interpreter.data,
            needs_visa_letter=self.needs_visa_letter.data,
            needs_accommodation=self.needs_accommodation.data,
            has_mri=self.has_mri.data,
            source=source,
            submission_id=self.submission_id.data or None,
            spam_reason=self.spam_reason(),
        )
        return replace(inquiry, **origin)

    def upload(self) -> Upload | None:
        if self.attachment.data is None or self._content_type is None:
            return None
        return Upload(stream=self.attachment.data.stream, content_type=self._content_type)


class EmbeddedInquiryForm(InquiryForm):
    """The inquiry form in a partner's frame, where our cookies are blocked: no CSRF token
    (nobody is signed in to protect); the timer, the honeypot and the rate limit stay."""

    class Meta(InquiryForm.Meta):
        csrf = False


class ApiInquiryForm(FromJson, InquiryForm):
    """The inquiry form's fields and rules, for a JSON body sent with an API key. A
    browser's defences (the CSRF token, the fill timer, the honeypot) do not apply: the key's
    owner answers for what it sends, and a key that sends spam is revoked."""

    def spam_reason(self) -> str | None:
        return None


class PrivacyRequestForm(AppForm):
    kind = RadioField(
        _l("What would you like us to do?"),
        choices=[
            SelectChoice("export", _l("Send me a copy of all the information you hold about me")),
            SelectChoice("erase", _l("Delete my information (clinics that have it will be told)")),
        ],
        validators=[InputRequired(_l("Please choose one of the two."))],
    )
