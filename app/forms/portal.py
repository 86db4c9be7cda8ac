"""Clinic portal forms: passwords, answers to a lead, the listing, colleagues."""

from __future__ import annotations

from datetime import date
from typing import Any, Self

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectChoice,
    StringField,
    TextAreaField,
)
from wtforms import FieldList as WTFieldList
from wtforms.utils import unset_value
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from app.forms.base import AppForm, FromJson, json_formdata
from app.forms.choices import console_language_choices, language_choices
from app.forms.fields import CheckboxListField, ListChoiceField
from app.forms.validators import AtLeastOne, EmailAddress
from app.reference_data import QUOTE_CURRENCIES, QUOTE_PARTS
from app.services.accounts.passwords import MIN_PASSWORD_LENGTH
from app.services.answers.answering import Cover, QuoteDetails, QuoteItem


class SetPasswordForm(AppForm):
    password = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(_l("Please choose a password.")),
            Length(
                min=MIN_PASSWORD_LENGTH,
                message=_l(
                    "Please use at least %(count)d characters; a short sentence is easy to "
                    "remember.",
                    count=MIN_PASSWORD_LENGTH,
                ),
            ),
        ],
    )
    confirm = PasswordField(
        _l("The same password again"),
        validators=[EqualTo("password", _l("The two passwords are not the same."))],
    )


class EmailForm(AppForm):
    """A password link for a forgotten password, or an invitation for a colleague."""

    email = StringField(
        _l("Email"), validators=[DataRequired(_l("Please enter an email address.")), EmailAddress()]
    )


def currency_choices() -> list[SelectChoice]:
    locale = get_locale()
    names = locale.currencies if locale else {}
    return [SelectChoice(code, f"{code} — {names.get(code, code)}") for code in QUOTE_CURRENCIES]


# The third answer for a part; it is not stored: a part left out of a quote is not offered.
NOT_OFFERED = "not_offered"


class QuotePartForm(Form):
    """How the quote covers one standard part (a sub-form: no CSRF of its own)."""

    cover = RadioField(
        _l("In this quote"),
        choices=[
            SelectChoice(Cover.INCLUDED.value, _l("Included in the price")),
            SelectChoice(Cover.SEPARATE.value, _l("Priced separately")),
            SelectChoice(NOT_OFFERED, _l("Not offered")),
        ],
        invalid_choice_message=_l("Please choose: included, priced separately or not offered."),
    )
    price = IntegerField(
        _l("Its price, if priced separately"),
        validators=[Optional(), NumberRange(min=1, message=_l("Please enter a price above zero."))],
    )

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        if self.cover.data == Cover.SEPARATE and self.price.data is None and not self.price.errors:
            self.price.errors.append(_l("Please enter its price, or choose another answer."))
            return False
        return valid

    def item(self) -> QuoteItem | None:
        """None for a part not offered; a price only for a part priced separately."""
        if self.cover.data == NOT_OFFERED:
            return None
        cover = Cover(self.cover.data)
        return QuoteItem(cover, self.price.data if cover is Cover.SEPARATE else None)


# One sub-form per standard part, named by its code (quote-items-diagnostics-cover), so the
# parts are written down once, in reference_data.
QuotePartsForm: type[Form] = type(
    "QuotePartsForm",
    (Form,),
    {code: FormField(QuotePartForm, label=label) for code, label in QUOTE_PARTS.items()},
)


class QuotePartsField(FormField):
    """The quote's parts as stored (a part left out is not offered) shown as one answer per
    part; a quote sent before itemisation starts with every part unanswered."""

    def process(self, formdata: Any, data: Any = unset_value, extra_filters: Any = None) -> None:
        if isinstance(data, dict) and data:
            data = {code: data.get(code, {"cover": NOT_OFFERED}) for code in QUOTE_PARTS}
        super().process(formdata, data, extra_filters)


class QuoteForm(AppForm):
    price_min = IntegerField(
        _l("Price from"),
        validators=[
            InputRequired(_l("Please enter the lowest price.")),
            NumberRange(min=1, message=_l("Please enter a price above zero.")),
        ],
    )
    price_max = IntegerField(
        _l("Price up to"),
        validators=[
            InputRequired(_l("Please enter the highest price (the same as the lowest is fine).")),
            NumberRange(min=1, message=_l("Please enter a price above zero.")),
        ],
    )
    currency = ListChoiceField(
        _l("Currency"), invalid=_l("Please choose a currency from the list."), default="KRW"
    )
    includes = TextAreaField(
        _l("What the price includes"),
        validators=[
            DataRequired(_l("Please say what the price includes (treatment, scans, stay).")),
            Length(max=2000),
        ],
    )
    stay_nights = IntegerField(
        _l("Nights the patient should stay in Korea"),
        validators=[
            InputRequired(_l("Please say how many nights the patient should plan for.")),
            NumberRange(min=1, max=365, message=_l("Please enter between 1 and 365 nights.")),
        ],
    )
    valid_until = DateField(
        _l("Quote valid until"),
        validators=[DataRequired(_l("Please enter the date the quote is valid until."))],
    )
    note = TextAreaField(_l("Note for the patient (optional)"), validators=[Length(max=2000)])
    items = QuotePartsField(QuotePartsForm)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency.choices = currency_choices()

    def validate_price_max(self, field: IntegerField) -> None:
        if self.price_min.data and field.data and field.data < self.price_min.data:
            raise ValidationError(_l("The highest price cannot be below the lowest."))

    def validate_valid_until(self, field: DateField) -> None:
        if field.data and field.data < date.today():
            raise ValidationError(_l("The date has passed; please choose a later one."))

    def details(self) -> QuoteDetails:
        return QuoteDetails(
            price_min=self.price_min.data,
            price_max=self.price_max.data,
            currency=self.currency.data,
            includes=self.includes.data.strip(),
            stay_nights=self.stay_nights.data,
            valid_until=self.valid_until.data,
            note=(self.note.data or "").strip(),
            items={
                part.short_name: item
                for part in self.items
                if (item := part.form.item()) is not None
            },
        )


class ApiQuoteForm(FromJson, QuoteForm):
    """The portal's quote by the portal's rules, sent by a clinic's system. A part the body
    leaves out of `items` is not offered: the page asks about every part, while a system
    names the parts it prices."""

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Self:
        posted = json_formdata(body)
        for code in QUOTE_PARTS:
            posted.setdefault(f"items-{code}-cover", NOT_OFFERED)
        return cls(formdata=posted)


class BookingForm(AppForm):
    treatment_date = DateField(
        _l("Treatment date"),
        validators=[DataRequired(_l("Please enter the date of the treatment."))],
    )

    def validate_treatment_date(self, field: DateField) -> None:
        if field.data and field.data < date.today():
            raise ValidationError(_l("The date has passed; please choose a later one."))


class DeclineForm(AppForm):
    reason = TextAreaField(
        _l("Why the clinic cannot help (staff read this; the patient does not)"),
        validators=[DataRequired(_l("Please give a short reason.")), Length(max=2000)],
    )


class ApiDeclineForm(FromJson, DeclineForm):
    """Declining by the portal's rules, sent by a clinic's system."""


class OfferingForm(Form):
    """One catalogue procedure in the listing editor (a sub-form: no CSRF of its own)."""

    procedure = HiddenField()
    offered = BooleanField(_l("We offer this"))
    price_min_usd = IntegerField(
        _l("Price from (USD)"),
        validators=[Optional(), NumberRange(min=1, message=_l("Please enter a price above zero."))],
    )
    price_max_usd = IntegerField(
        _l("Price up to (USD)"),
        validators=[Optional(), NumberRange(min=1, message=_l("Please enter a price above zero."))],
    )
    notes = StringField(_l("Notes"), validators=[Length(max=500)])

    def validate_price_max_usd(self, field: IntegerField) -> None:
        low = self.price_min_usd.data
        if (low is None) != (field.data is None):
            raise ValidationError(_l("Please give both prices, or neither for 'on request'."))
        if low is not None and field.data is not None and field.data < low:
            raise ValidationError(_l("The highest price cannot be below the lowest."))


class MyLanguageForm(AppForm):
    language = ListChoiceField(
        _l("Your language in the portal"), invalid=_l("Please choose one of the languages.")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.language.choices = [
            SelectChoice("", _l("The clinic's language")),
            *console_language_choices(),
        ]


class ListingForm(AppForm):
    description = TextAreaField(
        _l("About the clinic"),
        validators=[
            Length(max=5000, message=_l("Please keep the description under 5,000 characters."))
        ],
    )
    weekly_capacity = IntegerField(
        _l("New patient inquiries you can take each week"),
        validators=[
            InputRequired(_l("Please enter how many inquiries you can take each week.")),
            NumberRange(min=1, max=500, message=_l("Please enter a number from 1 to 500.")),
        ],
    )
    languages = CheckboxListField(
        _l("Languages your staff speak with patients"),
        validators=[AtLeastOne(_l("Please choose at least one language."))],
    )
    offerings = WTFieldList(FormField(OfferingForm))
    language = ListChoiceField(
        _l("Language of CareRoute's emails and portal for your clinic"),
        invalid=_l("Please choose Korean or English."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.languages.choices = language_choices()
        self.language.choices = console_language_choices()

    def validate_offerings(self, field: WTFieldList) -> None:
        if not any(entry.form.offered.data for entry in field.entries):
            raise ValidationError(_l("Please keep at least one procedure you offer."))
