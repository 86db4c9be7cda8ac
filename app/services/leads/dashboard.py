"""Figures for the staff dashboard, over the last 30 days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import String, cast, func, literal, select

from app.models import EmailStatus, Lead, OutboundEmail, Procedure
from app.models.base import DbSession, utcnow
from app.services.answers.business_hours import BusinessCalendar
from app.services.answers.stats import (
    NO_ANSWERS,
    AnswerStats,
    answer_stats_by,
    median_answer_hours,
)

WINDOW_DAYS = 30
# A lead's source as the console's filter names it: one partner's leads apart from another's.
SOURCE = func.coalesce(literal("partner-") + cast(Lead.partner_id, String), Lead.source)


@dataclass(frozen=True)
class SourceFigures:
    """Where leads came from (the console's source filter value: "web", "api",
    "partner-<id>"), how many, and how the clinics answered them."""

    source: str
    leads: int
    answers: AnswerStats


@dataclass(frozen=True)
class Dashboard:
    per_day: list[tuple[date, int]]
    by_procedure: list[tuple[str, int]]
    by_country: list[tuple[str, int]]
    by_status: list[tuple[str, int]]
    by_source: list[SourceFigures]
    # Business hours, as `answer_stats.answer_hours` defines a clinic's answer time.
    median_answer_hours: float | None
    without_match: int
    failed_emails: int


def build_dashboard(
    session: DbSession, now: datetime | None = None, calendar: BusinessCalendar | None = None
) -> Dashboard:
    """The calendar defaults to the app's configured one: the answer time must be counted on
    the same clock as the clinics' own stats and deadlines."""
    now = now or utcnow()
    calendar = calendar or BusinessCalendar.from_config(current_app.config)
    since = now - timedelta(days=WINDOW_DAYS)
    recent = Lead.created_at >= since

    days: dict[date, int] = {(since + timedelta(days=n + 1)).date(): 0 for n in range(WINDOW_DAYS)}
    for created_at in session.scalars(select(Lead.created_at).where(recent)):
        day = created_at.date()
        if day in days:
            days[day] += 1

    def grouped(column: Any) -> list[tuple[str, int]]:
        rows = session.execute(
            select(column, func.count())
            .select_from(Lead)
            .where(recent)
            .group_by(column)
            .order_by(func.count().desc())
        )
        return [(str(getattr(key, "value", key)), count) for key, count in rows]

    return Dashboard(
        per_day=sorted(days.items()),
        by_procedure=[
            (name, count)
            for name, count in session.execute(
                select(Procedure.name, func.count(Lead.id))
                .join(Lead)
                .where(recent)
                .group_by(Procedure.name)
                .order_by(func.count(Lead.id).desc())
            )
        ],
        by_country=grouped(Lead.country),
        by_status=grouped(Lead.status),
        by_source=_by_source(grouped(SOURCE), answer_stats_by(session, SOURCE, calendar, since)),
        median_answer_hours=median_answer_hours(session, calendar, since),
        without_match=session.scalar(
            select(func.count(Lead.id)).where(recent, Lead.no_matching_clinic.is_(True))
        )
        or 0,
        failed_emails=session.scalar(
            select(func.count(OutboundEmail.id)).where(
                OutboundEmail.status == EmailStatus.FAILED, OutboundEmail.created_at >= since
            )
        )
        or 0,
    )


def _by_source(
    leads: list[tuple[str, int]], answers: dict[str, AnswerStats]
) -> list[SourceFigures]:
    return [
        SourceFigures(source, count, answers.get(source, NO_ANSWERS)) for source, count in leads
    ]
