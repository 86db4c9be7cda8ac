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

from app.models import Assignment, Lead
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


NO_ANSWERS = AnswerStats(answered=0, expired=0, median_hours=None)


def answer_hours(calendar: BusinessCalendar, sent_at: datetime, responded_at: datetime) -> float:
    """A clinic's answer time: the one definition the clinic stats and the dashboard share.

    Business hours from the notice being sent (the deadline's clock starts there, not when
    the patient wrote) to the clinic's first answer."""
    return calendar.hours_between(sent_at, responded_at)


def _sent_assignments(
    session: DbSession, since: datetime, key: Any, *where: Any, until: datetime | None = None
) -> Result[Any, datetime, datetime | None, datetime | None]:
    """Leads sent since `since` (and before `until`) that the patient did not take back (a
    withdrawn lead says nothing about how the clinic answers; one staff closed later still
    does), each with `key`: the clinic, or a column of its lead (the dashboard's source)."""
    query = (
        select(key, Assignment.sent_at, Assignment.responded_at, Assignment.expired_at)
        .join_from(Assignment, Lead, Lead.id == Assignment.lead_id)
        .where(Assignment.sent_at >= since, counts_for_clinic(), *where)
    )
    if until is not None:
        query = query.where(Assignment.sent_at < until)
    return session.execute(query)


def _tally(
    rows: Iterable[tuple[Any, datetime, datetime | None, datetime | None]],
    calendar: BusinessCalendar,
) -> dict[Any, AnswerStats]:
    hours: dict[Any, list[float]] = defaultdict(list)
    expired: dict[Any, int] = defaultdict(int)
    for key, sent_at, responded_at, expired_at in rows:
        if responded_at is not None:
            hours[key].append(answer_hours(calendar, sent_at, responded_at))
        elif expired_at is not None:
            expired[key] += 1
    return {
        key: AnswerStats(
            answered=len(hours[key]),
            expired=expired[key],
            median_hours=median(hours[key]) if hours[key] else None,
        )
        for key in hours.keys() | expired.keys()
    }


def answer_stats(
    session: DbSession, clinic_ids: Iterable[int], calendar: BusinessCalendar, since: datetime
) -> dict[int, AnswerStats]:
    ids = list(clinic_ids)
    rows = _sent_assignments(session, since, Assignment.clinic_id, Assignment.clinic_id.in_(ids))
    found = _tally(rows, calendar)
    return {clinic_id: found.get(clinic_id, NO_ANSWERS) for clinic_id in ids}


def answer_stats_by(
    session: DbSession,
    key: Any,
    calendar: BusinessCalendar,
    since: datetime,
    until: datetime | None = None,
) -> dict[Any, AnswerStats]:
    """Every clinic's answers grouped by a column of the lead or of the assignment, counted
    as each clinic's own stats count them, so the dashboard and a clinic's page never
    disagree."""
    return _tally(_sent_assignments(session, since, key, until=until), calendar)


def median_answer_hours(
    session: DbSession, calendar: BusinessCalendar, since: datetime, until: datetime | None = None
) -> float | None:
    """Every clinic's answers together."""
    rows = _sent_assignments(session, since, Assignment.clinic_id, until=until)
    hours = [
        answer_hours(calendar, sent_at, responded_at)
        for _, sent_at, responded_at, _ in rows
        if responded_at is not None
    ]
    return median(hours) if hours else None


def recent_answer_stats(
    session: DbSession, clinic_ids: Iterable[int], config: Mapping[str, Any], now: datetime
) -> dict[int, AnswerStats]:
    """The last 90 days, on the configured business calendar."""
    return answer_stats(session, clinic_ids, BusinessCalendar.from_config(config), now - WINDOW)
