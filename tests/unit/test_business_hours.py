"""Seoul business hours: weekends and Korean public holidays do not count."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from app.services.answers.business_hours import BusinessCalendar
from tests.support.clock import CALENDAR, SEOUL


def seoul(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SEOUL)


def test_a_lead_sent_on_friday_night_is_not_overdue_on_saturday():
    friday_night = seoul(2026, 11, 20, 22, 0)
    # 24 working hours: Monday 9 h, Tuesday 9 h, then 6 h of Wednesday.
    assert CALENDAR.add_hours(friday_night, 24) == seoul(2026, 11, 25, 15, 0)
    assert CALENDAR.hours_between(friday_night, seoul(2026, 11, 22, 23, 0)) == 0


def test_chuseok_and_its_weekend_do_not_count():
    # Chuseok 2026 is Thursday 24 to Saturday 26 September.
    wednesday_five_pm = seoul(2026, 9, 23, 17, 0)
    assert CALENDAR.add_hours(wednesday_five_pm, 2) == seoul(2026, 9, 28, 10, 0)


def test_a_substitute_holiday_does_not_count():
    # Liberation Day (Saturday 15 August 2026) is made up on Monday 17 August.
    assert not CALENDAR.is_working_day(seoul(2026, 8, 17, 12).date())
    assert CALENDAR.is_working_day(seoul(2026, 8, 18, 12).date())


def test_time_before_opening_starts_counting_at_nine():
    assert CALENDAR.add_hours(seoul(2026, 11, 24, 7, 30), 1) == seoul(2026, 11, 24, 10, 0)


@pytest.mark.parametrize(
    "start", [seoul(2026, 11, 20, 17, 0), seoul(2026, 9, 23, 12, 0), seoul(2026, 12, 24, 8, 0)]
)
@pytest.mark.parametrize("hours", [1, 24, 48])
def test_subtracting_undoes_adding_and_counting_agrees(start: datetime, hours: int):
    due = CALENDAR.add_hours(start, hours)
    assert CALENDAR.hours_between(start, due) == pytest.approx(hours)
    # The latest start that is due by `due` is due exactly then, and not a minute later.
    latest = CALENDAR.subtract_hours(due, hours)
    assert CALENDAR.add_hours(latest, hours) == due
    assert latest >= start


def test_badly_written_hours_are_refused():
    with pytest.raises(ValueError, match="open before it closes"):
        BusinessCalendar.from_config(
            {
                "BUSINESS_TIMEZONE": "Asia/Seoul",
                "BUSINESS_HOURS": "18:00-09:00",
                "BUSINESS_COUNTRY": "KR",
            }
        )


@pytest.mark.parametrize(
    ("thursday_five_pm", "holiday", "monday_ten_am"),
    [
        # Labour Day: a public holiday for everyone from 2026 (before, only for employees).
        (seoul(2026, 4, 30, 17, 0), date(2026, 5, 1), seoul(2026, 5, 4, 10, 0)),
        # Constitution Day: a public holiday again from 2026.
        (seoul(2026, 7, 16, 17, 0), date(2026, 7, 17), seoul(2026, 7, 20, 10, 0)),
    ],
    ids=["labour-day", "constitution-day"],
)
def test_a_deadline_over_the_2026_labour_and_constitution_days_skips_them(
    thursday_five_pm: datetime, holiday: date, monday_ten_am: datetime
):
    assert not CALENDAR.is_working_day(holiday)
    # One hour on Thursday, none on the Friday holiday or the weekend, one on Monday.
    assert CALENDAR.add_hours(thursday_five_pm, 2) == monday_ten_am
