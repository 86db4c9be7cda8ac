"""Figures for the staff dashboard over a chosen range of days (UTC), the last 30 unless
chosen: leads, and how clinics answered them, per clinic, procedure, source and language.

Each table is one grouped query of leads, whatever its rows; the clinics' answers for every
table are one query and one pass."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, Select, String, cast, distinct, func, literal, select

from app.models import Assignment, Clinic, EmailStatus, Lead, OutboundEmail, Procedure
from app.models.base import DbSession, utcnow
from app.services.answers.business_hours import BusinessCalendar
from app.services.answers.stats import NO_ANSWERS, AnswerStats, answer_stats_by

DEFAULT_DAYS = 30
# A year and a day at most: a wider range is a report, not a dashboard.
MAX_DAYS = 366
# A lead's source as the console's filter names it: one partner's leads apart from another's.
SOURCE = func.coalesce(literal("partner-") + cast(Lead.partner_id, String), Lead.source)


@dataclass(frozen=True)
class Period:
    """From the start of `first` to the end of `last`, both UTC days."""

    first: date
    last: date

    @classmethod
    def ending(cls, last: date, days: int = DEFAULT_DAYS) -> Period:
        return cls(last - timedelta(days=days - 1), last)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def since(self) -> datetime:
        return datetime.combine(self.first, time(), UTC)

    @property
    def until(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(), UTC)


@dataclass(frozen=True)
class GroupFigures:
    """One row of a table: `key` is what the console's lead filter takes for it (a clinic's
    id, a procedure's slug, a source, a language), `label` what a person reads."""

    key: str
    label: str
    leads: int
    answers: AnswerStats


@dataclass(frozen=True)
class SourceFigures:
    """Where leads came from (the console's source filter value: "web", "api",
    "partner-<id>"), how many, and how the clinics answered them."""

    source: str
    leads: int
    answers: AnswerStats


@dataclass(frozen=True)
class Dashboard:
    period: Period
    per_day: list[tuple[date, int]]
    by_procedure: list[tuple[str, int]]
    by_country: list[tuple[str, int]]
    by_status: list[tuple[str, int]]
    by_source: list[SourceFigures]
    by_clinic: list[GroupFigures]
    by_procedure_answers: list[GroupFigures]
    by_language: list[GroupFigures]
    # Business hours, as `answer_stats.answer_hours` defines a clinic's answer time.
    median_answer_hours: float | None
    without_match: int
    failed_emails: int


def build_dashboard(
    session: DbSession,
    period: Period | None = None,
    now: datetime | None = None,
    calendar: BusinessCalendar | None = None,
) -> Dashboard:
    """The calendar defaults to the app's configured one: the answer time must be counted on
    the same clock as the clinics' own stats and deadlines."""
    period = period or Period.ending((now or utcnow()).date())
    calendar = calendar or BusinessCalendar.from_config(current_app.config)
    figures = _Figures(session, period)
    everything, clinics, procedures, sources, languages = answer_stats_by(
        session,
        [literal("all"), Assignment.clinic_id, Lead.procedure_id, SOURCE, Lead.language],
        calendar,
        period.since,
        period.until,
    )
    by_procedure = figures.grouped(
        select(Procedure.id, Procedure.slug, Procedure.name, func.count(Lead.id)).join(
            Lead.procedure
        ),
        procedures,
    )
    return Dashboard(
        period=period,
        per_day=figures.per_day(),
        by_procedure=[(row.label, row.leads) for row in by_procedure],
        by_country=figures.counted(Lead.country),
        by_status=figures.counted(Lead.status),
        by_source=[
            SourceFigures(row.key, row.leads, row.answers)
            for row in figures.grouped(select(SOURCE, SOURCE, SOURCE, func.count(Lead.id)), sources)
        ],
        by_clinic=figures.grouped(
            # Leads of the period each clinic was sent (or offered).
            select(Clinic.id, Clinic.id, Clinic.name, func.count(distinct(Lead.id)))
            .select_from(Assignment)
            .join(Lead, Lead.id == Assignment.lead_id)
            .join(Clinic, Clinic.id == Assignment.clinic_id),
            clinics,
        ),
        by_procedure_answers=by_procedure,
        by_language=figures.grouped(
            select(Lead.language, Lead.language, Lead.language, func.count(Lead.id)),
            languages,
        ),
        median_answer_hours=everything.get("all", NO_ANSWERS).median_hours,
        without_match=figures.count(Lead.id, Lead.no_matching_clinic.is_(True)),
        failed_emails=session.scalar(
            select(func.count(OutboundEmail.id)).where(
                OutboundEmail.status == EmailStatus.FAILED,
                OutboundEmail.created_at >= period.since,
                OutboundEmail.created_at < period.until,
            )
        )
        or 0,
    )


class _Figures:
    """The dashboard's counts of leads over one period."""

    def __init__(self, session: DbSession, period: Period) -> None:
        self.session = session
        self.period = period
        self.in_period = (Lead.created_at >= period.since, Lead.created_at < period.until)

    def count(self, column: Any, *where: ColumnElement[bool]) -> int:
        return self.session.scalar(select(func.count(column)).where(*self.in_period, *where)) or 0

    def per_day(self) -> list[tuple[date, int]]:
        days = {self.period.first + timedelta(days=n): 0 for n in range(self.period.days)}
        for created_at in self.session.scalars(select(Lead.created_at).where(*self.in_period)):
            days[created_at.date()] = days.get(created_at.date(), 0) + 1
        return sorted(days.items())

    def counted(self, column: Any) -> list[tuple[str, int]]:
        rows = self.session.execute(
            select(column, func.count())
            .select_from(Lead)
            .where(*self.in_period)
            .group_by(column)
            .order_by(func.count().desc())
        )
        return [(str(getattr(key, "value", key)), count) for key, count in rows]

    def grouped(
        self, leads: Select[Any, Any, Any, int], answers: dict[Any, AnswerStats]
    ) -> list[GroupFigures]:
        """`leads` selects, per group, the value its `answers` are keyed by, its filter key,
        its label and its count of leads."""
        columns = leads.selected_columns
        rows = self.session.execute(
            leads.where(*self.in_period)
            .group_by(*columns[:3])
            .order_by(columns[3].desc(), columns[2])
        )
        return [
            GroupFigures(str(key), str(label), count, answers.get(answered_by, NO_ANSWERS))
            for answered_by, key, label, count in rows
        ]
