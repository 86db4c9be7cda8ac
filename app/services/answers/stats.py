"""How quickly and how often clinics answer, shown to staff and to each clinic.

Answer time is counted in business hours, the same clock as the deadlines, so a lead
answered on Monday morning after a Friday-evening notice counts as fast. The answer rate
is answered / (answered + let expire): leads still within their deadline do not count yet.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median
from typing import Any

from sqlalchemy import Result, select

from app.models import Assignment
from app.models.base import DbSession
from app.services.answers.business_hours import BusinessCalendar
from app.services.leads.routing import counts_for_clinic

WINDOW = timedelta(days=90)


@dataclass(frozen=True)
class AnswerStats:
    answered: int
    expired: int
    median_hours: float | None

    @property
    def settled(self) -> int:
        return self.answered + self.expired

    @property
    def rate(self) -> float | None:
        return self.answered / self.settled if self.settled else None


def answer_hours(calendar: BusinessCalendar, sent_at: datetime, responded_at: datetime) -> float:
    """A clinic's answer time: the one definition the clinic stats and the dashboard share.

    Business hours from the notice being sent (the deadline's clock starts there, not when
    the patient wrote) to the clinic's first answer."""
    return calendar.hours_between(sent_at, responded_at)


def _sent_assignments(
    session: DbSession, since: datetime, clinic_ids: list[int] | None
) -> Result[int, datetime, datetime | None, datetime | None]:
    """Leads sent since `since` that the patient did not take back (a withdrawn lead says
    nothing about how the clinic answers; one staff closed later still does)."""
    query = select(
        Assignment.clinic_id,
        Assignment.sent_at,
        Assignment.responded_at,
        Assignment.expired_at,
    ).where(Assignment.sent_at >= since, counts_for_clinic())
    if clinic_ids is not None:
        query = query.where(Assignment.clinic_id.in_(clinic_ids))
    return session.execute(query)


def answer_stats(
    session: DbSession, clinic_ids: Iterable[int], calendar: BusinessCalendar, since: datetime
) -> dict[int, AnswerStats]:
    ids = list(clinic_ids)
    hours: dict[int, list[float]] = defaultdict(list)
    expired: dict[int, int] = defaultdict(int)
    for clinic_id, sent_at, responded_at, expired_at in _sent_assignments(session, since, ids):
        if responded_at is not None:
            hours[clinic_id].append(answer_hours(calendar, sent_at, responded_at))
        elif expired_at is not None:
            expired[clinic_id] += 1
    return {
        clinic_id: AnswerStats(
            answered=len(hours[clinic_id]),
            expired=expired[clinic_id],
            median_hours=median(hours[clinic_id]) if hours[clinic_id] else None,
        )
        for clinic_id in ids
    }


def median_answer_hours(
    session: DbSession, calendar: BusinessCalendar, since: datetime
) -> float | None:
    """Every clinic's answers together, counted as each clinic's own stats count them, so
    the dashboard and a clinic's page never disagree about what an answer time is."""
    hours = [
        answer_hours(calendar, sent_at, responded_at)
        for _, sent_at, responded_at, _ in _sent_assignments(session, since, None)
        if responded_at is not None
    ]
    return median(hours) if hours else None


def recent_answer_stats(
    session: DbSession, clinic_ids: Iterable[int], config: Mapping[str, Any], now: datetime
) -> dict[int, AnswerStats]:
    """The last 90 days, on the configured business calendar."""
    return answer_stats(session, clinic_ids, BusinessCalendar.from_config(config), now - WINDOW)
