"""The assumptions behind the estimate of a whole trip on the patient's own page.

They come from the query string: a GET that changes nothing, so it needs no CSRF token, and
the patient can keep or share the link with their own figures in it. A box left empty means
our planning figure for it.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField
from wtforms.validators import NumberRange, Optional

from app.forms.base import AppForm
from app.services.leads.trip_estimate import (
    DAILY_COSTS_USD,
    HOTEL_PER_NIGHT_USD,
    KRW_PER_USD,
    VISA_FEE_USD,
    Assumptions,
)

# Far above any real figure or rate: a typo of three extra zeros is refused, not added up.
LARGEST_FIGURE = 100_000


class _WholeNumberField(IntegerField):
    """A number box whose only complaint is the field's own plain message: WTForms would add
    its technical "Not a valid integer value." for "abc" or "1.5"."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None  # NumberRange then refuses it, in our words


def _amount(label: Any, default: int) -> IntegerField:
    return _WholeNumberField(
        label,
        default=default,
        validators=[
            Optional(),
            NumberRange(
                min=0,
                max=LARGEST_FIGURE,
                message=_l("Please enter a whole number of dollars, 0 or more."),
            ),
        ],
    )


class TripAssumptionsForm(AppForm):
    class Meta(AppForm.Meta):
        csrf = False

    nights = _WholeNumberField(
        _l("Nights in Korea"),
        validators=[
            Optional(),
            NumberRange(min=1, max=365, message=_l("Please enter between 1 and 365 nights.")),
        ],
    )
    hotel_per_night = _amount(_l("Hotel, a night (US dollars)"), HOTEL_PER_NIGHT_USD)
    daily_costs = _amount(_l("Meals and local travel, a day (US dollars)"), DAILY_COSTS_USD)
    visa_fee = _amount(_l("Visa fee (US dollars; 0 if you need no visa)"), VISA_FEE_USD)
    krw_per_usd = _WholeNumberField(
        _l("Korean won to one US dollar"),
        default=KRW_PER_USD,
        validators=[
            Optional(),
            NumberRange(
                min=1, max=LARGEST_FIGURE, message=_l("Please enter a whole number above 0.")
            ),
        ],
    )

    def assumptions(self) -> Assumptions:
        """What the patient entered, with our planning figure for any box left empty."""
        return Assumptions(
            hotel_per_night=_entered(self.hotel_per_night),
            daily_costs=_entered(self.daily_costs),
            visa_fee=_entered(self.visa_fee),
            krw_per_usd=_entered(self.krw_per_usd),
            nights=self.nights.data,
        )


def _entered(field: IntegerField) -> int:
    return int(field.default if field.data is None else field.data)
