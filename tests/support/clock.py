"""The fixed instants tests happen at, and the Seoul business calendar deadlines count on."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from app.services.answers.business_hours import BusinessCalendar

# When factory leads are made and routed, unless a test says otherwise: a Wednesday morning.
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)

SEOUL = ZoneInfo("Asia/Seoul")
CALENDAR = BusinessCalendar.from_config(
    {"BUSINESS_TIMEZONE": "Asia/Seoul", "BUSINESS_HOURS": "09:00-18:00", "BUSINESS_COUNTRY": "KR"}
)

# A clinic notice sent after hours before a weekend: its clock starts on Monday morning.
FRIDAY_NIGHT = datetime(2026, 11, 20, 21, 0, tzinfo=SEOUL)


def at(hours: float) -> datetime:
    """`hours` business hours after Friday night's notice."""
    return CALENDAR.add_hours(FRIDAY_NIGHT, hours)
