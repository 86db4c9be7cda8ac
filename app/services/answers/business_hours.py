"""Seoul business hours: clinic deadlines count working time, not wall-clock time.

A lead sent on Friday evening must not be overdue on Saturday, nor during Chuseok. The
calendar is working hours on weekdays that are not Korean public holidays (the `holidays`
package keeps that list, substitute holidays included).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays

# Far enough for any deadline we set; stops a misconfigured calendar from looping forever.
_MAX_DAYS = 3 * 366


def _parse_hours(value: str) -> tuple[time, time]:
    opens, _, closes = value.partition("-")
    start, end = time.fromisoformat(opens.strip()), time.fromisoformat(closes.strip())
    if start >= end:
        raise ValueError(f"business hours {value!r}: the day must open before it closes")
    return start, end


@dataclass(frozen=True)
class BusinessCalendar:
    timezone: ZoneInfo
    opens: time
    closes: time
    country: str = "KR"
    _holidays: Any = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_holidays", holidays.country_holidays(self.country))

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> BusinessCalendar:
        return _calendar(
            config["BUSINESS_TIMEZONE"], config["BUSINESS_HOURS"], config["BUSINESS_COUNTRY"]
        )

    @property
    def hours_per_day(self) -> float:
        opens, closes = (datetime.combine(date.min, t) for t in (self.opens, self.closes))
        return (closes - opens).total_seconds() / 3600

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self._holidays

    def _day_window(self, day: date) -> tuple[datetime, datetime]:
        return (
            datetime.combine(day, self.opens, tzinfo=self.timezone).astimezone(UTC),
            datetime.combine(day, self.closes, tzinfo=self.timezone).astimezone(UTC),
        )

    def _windows(self, start: datetime, step: int) -> Iterator[tuple[datetime, datetime]]:
        """Working windows from the day holding `start`, forwards (1) or backwards (-1)."""
        day = start.astimezone(self.timezone).date()
        for offset in range(_MAX_DAYS):
            current = day + timedelta(days=offset * step)
            if self.is_working_day(current):
                yield self._day_window(current)
        raise ValueError("no working day found within three years")

    def add_hours(self, start: datetime, hours: float) -> datetime:
        """The moment `hours` of working time after `start`."""
        remaining = timedelta(hours=hours)
        for opens, closes in self._windows(start, 1):
            begin = max(start, opens)
            if begin >= closes:
                continue
            if remaining <= closes - begin:
                return begin + remaining
            remaining -= closes - begin
        raise AssertionError("unreachable")

    def subtract_hours(self, end: datetime, hours: float) -> datetime:
        """The latest start that has at least `hours` of working time before `end`.

        So "sent at or before this" is the same as "due by `end`", and the deadline check
        is one indexed comparison on `sent_at`.
        """
        remaining = timedelta(hours=hours)
        for opens, closes in self._windows(end, -1):
            finish = min(end, closes)
            if finish <= opens:
                continue
            if remaining <= finish - opens:
                return finish - remaining
            remaining -= finish - opens
        raise AssertionError("unreachable")

    def hours_between(self, start: datetime, end: datetime) -> float:
        if end <= start:
            return 0.0
        total = timedelta()
        for opens, closes in self._windows(start, 1):
            if opens >= end:
                break
            overlap = min(closes, end) - max(opens, start)
            if overlap > timedelta():
                total += overlap
        return total.total_seconds() / 3600


@cache
def _calendar(timezone: str, hours: str, country: str) -> BusinessCalendar:
    """One calendar per setting: building one (holiday tables, lunar dates) costs far more
    than using it, and a calendar never changes while the process runs, so pages, emails
    and deadline checks share it."""
    opens, closes = _parse_hours(hours)
    return BusinessCalendar(ZoneInfo(timezone), opens, closes, country)


@dataclass(frozen=True)
class DeadlinePolicy:
    """How long a clinic has to answer, in working time; here beside the calendar because
    the notice that starts the clock states the deadline too."""

    calendar: BusinessCalendar
    remind_after_hours: float
    reroute_after_hours: float
    max_clinics: int
    # Wall-clock hours a patient has to agree to a further clinic; silence means no.
    consent_wait_hours: float = 72.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> DeadlinePolicy:
        return cls(
            calendar=BusinessCalendar.from_config(config),
            remind_after_hours=config["CLINIC_REMINDER_HOURS"],
            reroute_after_hours=config["CLINIC_REROUTE_HOURS"],
            max_clinics=config["ROUTING_MAX_CLINICS"],
            consent_wait_hours=config["CONSENT_WAIT_HOURS"],
        )

    def due_at(self, sent_at: datetime) -> datetime:
        """When an unanswered lead leaves the clinic."""
        return self.calendar.add_hours(sent_at, self.reroute_after_hours)

    def answer_working_days(self) -> int:
        """The answer time patients are promised, in whole working days, from the deadline
        clinics are held to, so the two cannot drift apart. A notice sent at closing time is
        due this many working days later at the most (48 hours of nine-hour days: 6)."""
        # Rounded first, so 27 hours of nine-hour days is 3, not 3.0000001 made 4.
        return max(1, math.ceil(round(self.reroute_after_hours / self.calendar.hours_per_day, 6)))
