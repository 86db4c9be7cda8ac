"""Staff's first-response clock: how long a new lead may wait for a first word from staff.

It counts business hours on the clinics' own calendar (`BusinessCalendar`), so a lead that
arrives on Friday afternoon is due on Monday, and staff and clinics are held to the same
working week. It starts when the lead is stored and stops at staff's first message to the
patient; a settled lead is never overdue, whatever its clock said.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from flask import current_app

from app.models import OPEN_STATUSES, Lead, LeadStatus
from app.services.answers.business_hours import BusinessCalendar

# Past this, "overdue by" is told as a date: counting business hours over months of
# calendar is slow for a list of fifty leads, and "since 3 March" says it better anyway.
COUNTED_UP_TO = timedelta(days=14)


class ClockState(StrEnum):
    RUNNING = "running"
    OVERDUE = "overdue"
    ANSWERED = "answered"
    SETTLED = "settled"


@dataclass(frozen=True)
class ResponseClock:
    state: ClockState
    due_at: datetime
    # Business time left (running) or past the due time (overdue, when counted); else None.
    business_time: timedelta | None = None


def staff_due_at(received_at: datetime, config: Mapping[str, Any]) -> datetime:
    """When staff owe a lead received at `received_at` its first answer."""
    calendar = BusinessCalendar.from_config(config)
    return calendar.add_hours(received_at, config["STAFF_RESPONSE_HOURS"])


class OwedAnswer(Protocol):
    """What the clock reads of a lead (a `Lead`, or a row of the console's list)."""

    staff_due_at: datetime | None
    staff_responded_at: datetime | None
    status: LeadStatus


def clock_of(lead: OwedAnswer, now: datetime, calendar: BusinessCalendar) -> ResponseClock | None:
    """The lead's clock at `now`; None for a lead stored before the clock existed."""
    due = lead.staff_due_at
    if due is None:
        return None
    if lead.staff_responded_at is not None:
        return ResponseClock(ClockState.ANSWERED, due)
    if lead.status not in OPEN_STATUSES:
        return ResponseClock(ClockState.SETTLED, due)
    if now < due:
        return ResponseClock(ClockState.RUNNING, due, _business(calendar, now, due))
    late = _business(calendar, due, now) if now - due <= COUNTED_UP_TO else None
    return ResponseClock(ClockState.OVERDUE, due, late)


def _business(calendar: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    return timedelta(hours=calendar.hours_between(start, end))


def clock_at(lead: Lead, now: datetime) -> ResponseClock | None:
    """`clock_of` on the configured calendar: what the pages show (a template global)."""
    return clock_of(lead, now, BusinessCalendar.from_config(current_app.config))
