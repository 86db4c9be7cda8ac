"""Quotes a patient can compare: a clinic itemises its quote part by part in the portal, the
patient's page lines the quotes up by those parts, and estimates the whole trip on figures
the patient can change."""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.extensions import db
from app.models import Assignment, AuditEvent, Clinic, ClinicResponse, ClinicUser, Lead, Quote
from app.services.answers import answering
from app.services.answers.answering import Cover, QuoteDetails, QuoteItem
from app.services.leads.trip_estimate import Assumptions, CostKind, estimate_trip
from app.services.privacy.patient_links import status_token
from tests.support.checks import count, field_error
from tests.support.clock import NOW
from tests.support.data import quote_answers
from tests.support.factories import add_quote, make_clinic, make_clinic_user, routed_lead
from tests.support.forms import submit
from tests.support.portal import sign_in

DASH = "\N{EN DASH}"


class _Tables(HTMLParser):
    """Each table's rows as the reader sees them, by caption: a list of cell texts per row."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._rows: list[list[str]] = []
        self._caption: str | None = None
        self._cell: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._rows = []
        elif tag == "caption":
            self._caption = ""
        elif tag == "tr":
            self._rows.append([])
        elif tag in ("th", "td"):
            self._cell = ""

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell += data
        elif self._caption is not None:
            self._caption += data

    def handle_endtag(self, tag: str) -> None:
        if tag in ("th", "td") and self._cell is not None:
            self._rows[-1].append(" ".join(self._cell.split()))
            self._cell = None
        elif tag == "caption" and self._caption is not None:
            self.tables[" ".join(self._caption.split())] = self._rows
            self._caption = None


def table(html: str, caption: str) -> dict[str, list[str]]:
    """The table with this caption as {row header: its cells}; the clinics' names under ""."""
    reader = _Tables()
    reader.feed(html)
    return {row[0]: row[1:] for row in reader.tables[caption]}


QUOTES = "What each clinic's quote includes, part by part"
TRIP = "The whole trip, by clinic"


def quote_of(lead: Lead, clinic: Clinic) -> Quote | None:
    db.session.expire_all()
    assignment = db.session.scalar(
        select(Assignment).where(Assignment.lead_id == lead.id, Assignment.clinic_id == clinic.id)
    )
    return assignment.quote


def status_page(client: FlaskClient, lead: Lead, **query: str) -> Any:
    return client.get(f"/inquire/status/{status_token(lead)}", query_string=query)


@pytest.fixture
def alpha(app: Flask) -> Clinic:
    clinic = make_clinic("Alpha")
    make_clinic_user(clinic)
    return clinic


@pytest.fixture
def bravo(app: Flask) -> Clinic:
    clinic = make_clinic("Bravo")
    make_clinic_user(clinic)
    return clinic


def send_quote(lead: Lead, clinic: Clinic, **details: Any) -> None:
    values: dict[str, Any] = {
        "price_min": 9000,
        "price_max": 12000,
        "currency": "USD",
        "includes": "Injection and MRI",
        "stay_nights": 7,
        "valid_until": NOW.date() + timedelta(days=30),
        **details,
    }
    user = db.session.scalar(select(ClinicUser).where(ClinicUser.clinic_id == clinic.id))
    answering.answer(
        db.session,
        lead.id,
        user.id,
        ClinicResponse.QUOTED,
        max_clinics=3,
        quote=QuoteDetails(**values),
    )


# --- the portal's quote form -----------------------------------------------------------------


def test_a_clinic_says_for_each_part_how_its_quote_covers_it(client: FlaskClient, alpha: Clinic):
    lead = routed_lead(language="en")
    page = f"/portal/leads/{lead.id}"
    sign_in(client, alpha.email)

    sent = submit(
        client,
        page,
        quote_answers(
            **{
                "quote-items-diagnostics-cover": Cover.SEPARATE.value,
                "quote-items-diagnostics-price": "400000",
                "quote-items-rehabilitation-cover": "not_offered",
            }
        ),
        action=f"{page}/quote",
    )

    assert sent.status_code == 302
    items = quote_of(lead, alpha).items
    assert items["diagnostics"] == {"cover": "separate", "price": 400000}
    assert items["consultation"] == {"cover": "included", "price": None}
    assert "rehabilitation" not in items
    shown = client.get(page).text
    assert "MRI and diagnostics" in shown and "₩400,000 extra" in shown
    assert "<dt>Rehabilitation</dt><dd>Not offered</dd>" in shown


def test_a_part_priced_separately_needs_its_price_and_nothing_is_stored_without_it(
    client: FlaskClient, alpha: Clinic
):
    lead = routed_lead(language="en")
    page = f"/portal/leads/{lead.id}"
    sign_in(client, alpha.email)

    refused = submit(
        client,
        page,
        quote_answers(**{"quote-items-follow_up-cover": Cover.SEPARATE.value}),
        action=f"{page}/quote",
    )

    html = refused.text
    assert refused.status_code == 422
    assert "enter its price" in field_error(html, "quote-items-follow_up-price")
    assert field_error(html, "quote-items-consultation-price") == ""
    assert 'value="9000000"' in html  # the other answers are kept, the choice too:
    assert '<input checked id="quote-items-follow_up-cover-1"' in html  # "priced separately"
    assert count(Quote) == 0


def test_a_part_left_unanswered_is_asked_for(client: FlaskClient, alpha: Clinic):
    lead = routed_lead(language="en")
    page = f"/portal/leads/{lead.id}"
    sign_in(client, alpha.email)
    answers = quote_answers()
    del answers["quote-items-harvesting-cover"]

    refused = submit(client, page, answers, action=f"{page}/quote")

    assert refused.status_code == 422
    assert "included, priced separately or not offered" in field_error(
        refused.text, "quote-items-harvesting-cover"
    )
    assert count(Quote) == 0


# --- the patient's comparison ----------------------------------------------------------------


def test_the_patient_page_lines_up_each_part_across_the_clinics(
    client: FlaskClient, alpha: Clinic, bravo: Clinic
):
    lead = routed_lead(language="en")
    send_quote(
        lead,
        alpha,
        items={
            "rehabilitation": QuoteItem(Cover.INCLUDED),
            "diagnostics": QuoteItem(Cover.SEPARATE, 450),
        },
    )
    send_quote(
        lead,
        bravo,
        currency="KRW",
        price_min=11_000_000,
        price_max=14_000_000,
        items={"diagnostics": QuoteItem(Cover.INCLUDED)},
    )

    quotes = table(status_page(client, lead).text, QUOTES)

    assert quotes[""] == ["Alpha", "Bravo"]
    assert quotes["Rehabilitation"] == ["Included", "Not offered"]
    assert quotes["MRI and diagnostics"] == ["$450 extra", "Included"]
    assert quotes["Price"] == [f"$9,000{DASH}$12,000", f"₩11,000,000{DASH}₩14,000,000"]
    assert quotes["Nights in Korea"] == ["7", "7"]


def test_a_quote_sent_before_itemisation_says_so_rather_than_offering_nothing(
    client: FlaskClient, alpha: Clinic, bravo: Clinic
):
    lead = routed_lead(language="en")
    send_quote(lead, alpha, items={"consultation": QuoteItem(Cover.INCLUDED)})
    add_quote(  # a quote stored before quotes listed their parts
        db.session.scalar(select(Assignment).where(Assignment.clinic_id == bravo.id)),
        valid_until=NOW.date() - timedelta(days=1),
    )

    quotes = table(status_page(client, lead).text, QUOTES)

    assert quotes["Consultation"] == ["Included", "Not itemised; ask the clinic"]
    assert quotes["Rehabilitation"] == ["Not offered"]  # Bravo's column says it once, above
    assert "this quote has expired" in quotes["Valid until"][1]


# --- the estimate of the whole trip ----------------------------------------------------------


def test_the_trip_adds_the_stay_and_the_parts_priced_separately_to_the_treatment():
    quote = Quote(
        price_min=9000,
        price_max=12000,
        currency="USD",
        stay_nights=7,
        items={
            "diagnostics": {"cover": "separate", "price": 500},
            "procedure": {"cover": "included", "price": None},
        },
    )

    trip = estimate_trip(quote, Assumptions(hotel_per_night=80, daily_costs=40, visa_fee=0))

    assert (trip.nights, trip.days) == (7, 8)
    assert {kind: line.low for kind, line in trip.lines.items()} == {
        CostKind.TREATMENT: 9000,
        CostKind.SEPARATE_PARTS: 500,
        CostKind.HOTEL: 560,
        CostKind.DAILY_COSTS: 320,
        CostKind.VISA: 0,
    }
    assert (trip.low, trip.high) == (10_380, 13_380)


def test_a_quote_in_won_counts_the_stay_at_the_stated_rate():
    quote = Quote(
        price_min=9_000_000, price_max=12_000_000, currency="KRW", stay_nights=10, items={}
    )

    trip = estimate_trip(quote, Assumptions(krw_per_usd=1000, nights=4))

    assert CostKind.SEPARATE_PARTS not in trip.lines  # not itemised: unknown, not zero
    assert trip.lines[CostKind.HOTEL].low == 4 * 100 * 1000
    assert {line.currency for line in trip.lines.values()} == {"KRW"}
    assert (trip.low, trip.high) == (9_000_000 + 400_000 + 250_000 + 40_000, 12_690_000)


def test_a_quote_in_another_currency_gets_no_total_at_a_made_up_rate():
    quote = Quote(price_min=8000, price_max=9000, currency="EUR", stay_nights=5, items={})

    trip = estimate_trip(quote, Assumptions())

    assert trip.lines[CostKind.TREATMENT].currency == "EUR"
    assert trip.lines[CostKind.HOTEL].currency == "USD"
    assert (trip.low, trip.high) == (None, None)


def test_changing_an_assumption_in_the_query_string_changes_the_total(
    client: FlaskClient, alpha: Clinic
):
    lead = routed_lead(language="en")
    send_quote(lead, alpha)  # USD 9,000-12,000, 7 nights

    planned = table(status_page(client, lead).text, TRIP)
    own = status_page(client, lead, hotel_per_night="200", visa_fee="0")

    # 7 nights at $100, 8 days at $50, a $40 visa; then 7 nights at $200 and no visa.
    assert planned["The whole trip, roughly"] == [f"$10,140{DASH}$13,140"]
    assert own.status_code == 200
    assert table(own.text, TRIP)["The whole trip, roughly"] == [f"$10,800{DASH}$13,800"]
    assert 'name="hotel_per_night" type="number" value="200"' in own.text


DOLLARS = "Please enter a whole number of dollars, 0 or more."


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"hotel_per_night": "lots"}, "hotel_per_night", DOLLARS),
        ({"daily_costs": "45.50"}, "daily_costs", DOLLARS),
        ({"visa_fee": "-5"}, "visa_fee", DOLLARS),
        ({"nights": "0"}, "nights", "Please enter between 1 and 365 nights."),
    ],
)
def test_a_figure_that_is_not_a_usable_number_is_explained_and_the_estimate_keeps_ours(
    client: FlaskClient, alpha: Clinic, query: dict[str, str], field: str, message: str
):
    lead = routed_lead(language="en")
    send_quote(lead, alpha)
    quote = quote_of(lead, alpha)
    before = (quote.price_min, quote.price_max, quote.stay_nights, quote.updated_at)
    last_event = db.session.scalar(select(func.max(AuditEvent.id)))

    page = status_page(client, lead, **query)

    assert page.status_code == 422
    assert field_error(page.text, field) == message  # one plain message, no technical one
    assert table(page.text, TRIP)["The whole trip, roughly"] == [f"$10,140{DASH}$13,140"]
    quote = quote_of(lead, alpha)
    assert (quote.price_min, quote.price_max, quote.stay_nights, quote.updated_at) == before
    recorded = db.session.scalars(select(AuditEvent.action).where(AuditEvent.id > last_event))
    assert list(recorded) == ["lead.viewed_by_patient"]
