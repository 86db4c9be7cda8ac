"""The lead list's rows, ready to print.

A page shows up to 200 leads. Telling each row's times, answers, clock and status through
per-row macros cost about a millisecond a row, most of it gettext looking up the request's
catalogue again for every word (bench/README.md); here every word is translated once per
page and each row only picks its words and fills in its numbers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import format_timedelta, gettext
from flask_babel import lazy_gettext as _l

from app.reference_data import procedure_name
from app.services.answers.business_hours import BusinessCalendar
from app.services.leads.queries import ListedAnswer, ListedLead
from app.services.leads.response_clock import ClockState, clock_of

# A lead's status in the reader's language; the one place these words are written (the
# `status_label` macro reads it too).
STATUS_WORDS = {
    "new": _l("new"),
    "routed": _l("routed"),
    "contacted": _l("contacted"),
    "quoted": _l("quoted"),
    "booked": _l("booked"),
    "closed": _l("closed"),
    "duplicate": _l("duplicate"),
    "spam": _l("spam"),
    "lost": _l("lost"),
    "withdrawn": _l("withdrawn"),
}

# Why a lead needs staff attention (its flag attributes), beside its status; the
# `lead_flags` macro reads it too.
FLAG_WORDS = {
    "no_matching_clinic": _l("no matching clinic"),
    "processing_failed": _l("processing failed"),
    "clinic_silent": _l("a clinic went silent"),
}


@dataclass(frozen=True)
class Moment:
    """A time as a person reads it at a glance ("25 min", "3 h", "2 d"), and exactly."""

    iso: str
    text: str


@dataclass(frozen=True)
class ClinicAnswer:
    clinic: str
    # waiting, contacted, quoted, declined, expired or revoked (also the CSS class)
    state: str
    word: str


@dataclass(frozen=True)
class ClockCell:
    text: str
    # "running" or "overdue" (the CSS class), None when the clock no longer runs
    state: str | None


@dataclass(frozen=True)
class LeadRow:
    id: int
    reference: str
    select_label: str
    full_name: str
    country: str
    language: str
    procedure: str
    answers: list[ClinicAnswer]
    waiting: Moment
    activity: Moment
    clock: ClockCell
    assignee: str | None
    tags: list[str]
    status: str
    flags: list[str]


class _PageWords:
    """Every word the rows use, translated for this page."""

    def __init__(self) -> None:
        self.status = {value: str(word) for value, word in STATUS_WORDS.items()}
        self.answers = {
            "waiting": gettext("waiting"),
            "contacted": gettext("contacted"),
            "quoted": gettext("quoted"),
            "declined": gettext("declined"),
            "expired": gettext("expired"),
            "revoked": gettext("no longer shared"),
        }
        self.flags = {flag: str(word) for flag, word in FLAG_WORDS.items()}
        # Formats, filled in per row (gettext with no values returns the format itself).
        self.minutes = gettext("%(num)d min")
        self.hours = gettext("%(num)d h")
        self.days = gettext("%(num)d d")
        self.left = gettext("%(time)s left")
        self.overdue_by = gettext("overdue by %(time)s")
        self.overdue = gettext("overdue")
        self.answered = gettext("answered")
        self.select = gettext("Select %(ref)s")


def lead_rows(
    leads: Iterable[ListedLead], assignees: dict[int, str], now: datetime
) -> list[LeadRow]:
    """The rows of one page; `assignees` maps staff ids to their email addresses."""
    words = _PageWords()
    calendar = BusinessCalendar.from_config(current_app.config)
    procedures: dict[str, str] = {}
    rows = []
    for lead in leads:
        if lead.procedure_slug not in procedures:
            procedures[lead.procedure_slug] = procedure_name(
                lead.procedure_slug, lead.procedure_name
            )
        assignee = assignees.get(lead.assigned_to_id) if lead.assigned_to_id else None
        rows.append(
            LeadRow(
                id=lead.id,
                reference=lead.reference,
                select_label=words.select % {"ref": lead.reference},
                full_name=lead.full_name,
                country=lead.country,
                language=lead.language,
                procedure=procedures[lead.procedure_slug],
                answers=[_answer(a, words) for a in lead.answers.values()],
                waiting=_moment(lead.created_at, now, words),
                activity=_moment(lead.updated_at, now, words),
                clock=_clock(lead, now, calendar, words),
                assignee=assignee.partition("@")[0] if assignee else None,
                tags=list(lead.tags),
                status=words.status[lead.status.value],
                flags=[word for flag, word in words.flags.items() if getattr(lead, flag)],
            )
        )
    return rows


def _moment(moment: datetime, now: datetime, words: _PageWords) -> Moment:
    minutes = max(0, int((now - moment).total_seconds() // 60))
    if minutes < 60:
        text = words.minutes % {"num": minutes}
    elif minutes < 2880:
        text = words.hours % {"num": minutes // 60}
    else:
        text = words.days % {"num": minutes // 1440}
    return Moment(moment.isoformat(), text)


def _answer(answer: ListedAnswer, words: _PageWords) -> ClinicAnswer:
    if answer.response is not None:
        state = answer.response.value
    elif answer.expired_at is not None:
        state = "expired"
    elif answer.revoked_at is not None:
        state = "revoked"
    else:
        state = "waiting"
    return ClinicAnswer(answer.clinic, state, words.answers[state])


def _clock(
    lead: ListedLead, now: datetime, calendar: BusinessCalendar, words: _PageWords
) -> ClockCell:
    """Staff's first-response clock in a word or two; the lead page tells it in full
    (`macros/response_clock.html`)."""
    clock = clock_of(lead, now, calendar)
    if clock is None or clock.state is ClockState.SETTLED:
        return ClockCell("—", None)
    if clock.state is ClockState.ANSWERED:
        return ClockCell(words.answered, None)
    if clock.state is ClockState.RUNNING and clock.business_time is not None:
        time_left = format_timedelta(clock.business_time, threshold=1)
        return ClockCell(words.left % {"time": time_left}, "running")
    if clock.business_time is not None and clock.business_time.total_seconds() >= 60:
        late = format_timedelta(clock.business_time, threshold=1)
        return ClockCell(words.overdue_by % {"time": late}, "overdue")
    return ClockCell(words.overdue, "overdue")
