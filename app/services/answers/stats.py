"""How quickly and how often clinics answer, shown to staff and to each clinic.

Answer time is counted in business hours, the same clock as the deadlines, so a lead
answered on Monday morning after a Friday-evening notice counts as fast. The answer rate
is answered / (answered + let expire): leads still within their deadline do not count yet.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
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
    session: DbSession,
    since: datetime,
    keys: Sequence[Any],
    *where: Any,
    until: datetime | None = None,
) -> Result[*tuple[Any, ...]]:
    """Leads sent since `since` (and before `until`) that the patient did not take back (a
    withdrawn lead says nothing about how the clinic answers; one staff closed later still
    does), each with `keys`: the clinic, or columns of its lead (the dashboard's groups),
    then the notice's, the answer's and the expiry's times."""
    query = (
        select(*keys, Assignment.sent_at, Assignment.responded_at, Assignment.expired_at)
        .join_from(Assignment, Lead, Lead.id == Assignment.lead_id)
        .where(Assignment.sent_at >= since, counts_for_clinic(), *where)
    )
    if until is not None:
        query = query.where(Assignment.sent_at < until)
    return session.execute(query)


def _tally(
    rows: Iterable[Sequence[Any]], calendar: BusinessCalendar
) -> list[dict[Any, AnswerStats]]:
    """Per key column of `rows`, its stats by the key's value; each answer's hours are
    counted once, however many keys group it."""
    hours: list[dict[Any, list[float]]] = []
    expired: list[dict[Any, int]] = []
    for *keys, sent_at, responded_at, expired_at in rows:
        if not hours:
            hours = [defaultdict(list) for _ in keys]
            expired = [defaultdict(int) for _ in keys]
        if responded_at is not None:
            took = answer_hours(calendar, sent_at, responded_at)
            for by_value, value in zip(hours, keys, strict=True):
                by_value[value].append(took)
        elif expired_at is not None:
            for counts, value in zip(expired, keys, strict=True):
                counts[value] += 1
    return [
        {
            value: AnswerStats(
                answered=len(answered[value]),
                expired=lapsed[value],
                median_hours=median(answered[value]) if answered[value] else None,
            )
            for value in answered.keys() | lapsed.keys()
        }
        for answered, lapsed in zip(hours, expired, strict=True)
    ]


def answer_stats(
    session: DbSession, clinic_ids: Iterable[int], calendar: BusinessCalendar, since: datetime
) -> dict[int, AnswerStats]:
    ids = list(clinic_ids)
    rows = _sent_assignments(session, since, [Assignment.clinic_id], Assignment.clinic_id.in_(ids))
    found = next(iter(_tally(rows, calendar)), {})
    return {clinic_id: found.get(clinic_id, NO_ANSWERS) for clinic_id in ids}


def answer_stats_by(
    session: DbSession,
    keys: Sequence[Any],
    calendar: BusinessCalendar,
    since: datetime,
    until: datetime | None = None,
) -> list[dict[Any, AnswerStats]]:
    """Every clinic's answers grouped by each of `keys` (columns of the lead or of the
    assignment; a constant groups them all together), counted as each clinic's own stats
    count them, so the dashboard and a clinic's page never disagree. One query and one
    pass, however many groupings."""
    found = _tally(_sent_assignments(session, since, keys, until=until), calendar)
    return found or [{} for _ in keys]


def recent_answer_stats(
    session: DbSession, clinic_ids: Iterable[int], config: Mapping[str, Any], now: datetime
) -> dict[int, AnswerStats]:
    """The last 90 days, on the configured business calendar."""
    return answer_stats(session, clinic_ids, BusinessCalendar.from_config(config), now - WINDOW)
