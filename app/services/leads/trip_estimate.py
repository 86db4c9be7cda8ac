"""What a whole trip for a quoted treatment may cost, because the procedure is only part of
what a patient pays: the quoted range, the parts the clinic prices separately, the hotel,
daily costs and the visa, each as its own line so the patient sees where a total comes from.

The assumptions are in US dollars: one set of them serves every quote on the page, and
patients already think in dollars here (the inquiry asks their budget in USD). We never use
an exchange rate the patient cannot see. A quote in dollars adds the assumptions as they
are; a quote in won converts them at one rate the page states and the patient can change;
a quote in any other currency keeps the stay's costs in dollars beside the treatment and
gives no total, since a total at a rate we made up would look more certain than it is.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from app.models import Quote
from app.services.answers.answering import Cover

# Rough planning figures, not prices anyone quoted, for a patient who has not looked yet:
# a mid-range hotel near Seoul's clinics, one person's meals and local travel, a single-entry
# short-term visa (many nationalities need none), and about what a dollar bought in won in
# 2025. The page states every one of them and lets the patient change it.
HOTEL_PER_NIGHT_USD = 100
DAILY_COSTS_USD = 50
VISA_FEE_USD = 40
KRW_PER_USD = 1400


class CostKind(enum.StrEnum):
    TREATMENT = "treatment"
    SEPARATE_PARTS = "separate_parts"
    HOTEL = "hotel"
    DAILY_COSTS = "daily_costs"
    VISA = "visa"


@dataclass(frozen=True)
class Assumptions:
    """What the patient expects to spend around the treatment, in US dollars."""

    hotel_per_night: int = HOTEL_PER_NIGHT_USD
    daily_costs: int = DAILY_COSTS_USD
    visa_fee: int = VISA_FEE_USD
    krw_per_usd: int = KRW_PER_USD
    nights: int | None = None  # None: the stay each clinic advises


@dataclass(frozen=True)
class CostLine:
    low: int
    high: int
    currency: str


@dataclass(frozen=True)
class TripEstimate:
    nights: int
    days: int  # in Korea: the nights and the day of leaving
    lines: dict[CostKind, CostLine]  # no SEPARATE_PARTS line when the quote is not itemised
    low: int | None  # None when the lines are in two currencies
    high: int | None


def estimate_trip(quote: Quote, assumptions: Assumptions) -> TripEstimate:
    """The trip's cost for one quote: each line, and the total when all are in one currency."""
    nights = quote.stay_nights if assumptions.nights is None else assumptions.nights
    days = nights + 1
    stay_currency, rate = _stay_currency(quote.currency, assumptions)
    lines = {CostKind.TREATMENT: CostLine(quote.price_min, quote.price_max, quote.currency)}
    if quote.items:
        separate = sum(
            item.get("price") or 0
            for item in quote.items.values()
            if item.get("cover") == Cover.SEPARATE
        )
        lines[CostKind.SEPARATE_PARTS] = CostLine(separate, separate, quote.currency)
    for kind, usd in (
        (CostKind.HOTEL, assumptions.hotel_per_night * nights),
        (CostKind.DAILY_COSTS, assumptions.daily_costs * days),
        (CostKind.VISA, assumptions.visa_fee),
    ):
        lines[kind] = CostLine(usd * rate, usd * rate, stay_currency)
    if stay_currency != quote.currency:
        return TripEstimate(nights, days, lines, None, None)
    return TripEstimate(
        nights,
        days,
        lines,
        sum(line.low for line in lines.values()),
        sum(line.high for line in lines.values()),
    )


def _stay_currency(quote_currency: str, assumptions: Assumptions) -> tuple[str, int]:
    """The currency the stay's costs are shown in, and how many of it make a dollar."""
    if quote_currency == "KRW":
        return "KRW", assumptions.krw_per_usd
    return "USD", 1
