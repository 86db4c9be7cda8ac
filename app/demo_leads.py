"""Sixty days of fictional leads for `make run`, so a newcomer's dashboard and console are
alive: patients from several countries asking about the demo clinics' procedures, through
our form, a demo partner and an API key, routed, and answered by the clinics (contacted,
quoted, declined, or let expire) at business-hours delays.

Everything goes through the real services (intake, processing, the clinics' answers, the
deadline check) at backdated times; the history's emails count as sent long ago, so
starting the system does not mail two hundred old notices. The same seed gives the same
leads every time. Names are invented and marked so, and every address is at example.com.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select, update

from app.models import (
    ApiKey,
    Assignment,
    AuditEvent,
    ClinicResponse,
    ClinicUser,
    EmailStatus,
    Lead,
    Offering,
    OutboundEmail,
    OutboxMessage,
    Partner,
    Quote,
    StaffUser,
)
from app.models.base import DbSession, utcnow
from app.services import audit
from app.services.answers.answering import QuoteDetails, answer
from app.services.answers.business_hours import DeadlinePolicy
from app.services.answers.deadlines import expire_silent, start_answer_clocks
from app.services.integrations import keys, partners
from app.services.integrations.keys import INQUIRIES_WRITE
from app.services.leads.intake import Inquiry, submit_inquiry
from app.services.leads.processing import ProcessingPolicy, process_lead
from app.services.leads.routing import recount_loads

DAYS = 60
SEED = 19
DEMO_PARTNER = "Steppe Knee Travel (demo partner)"
DEMO_KEY = "Demo booking desk (fictional)"

# (country, language, phone prefix, first names): surnames below are plainly made up.
_PATIENTS = (
    ("KZ", "ru", "+7701555", ("Aigerim", "Dana", "Nurlan", "Yerlan", "Saule")),
    ("MN", "mn", "+976991", ("Bat-Erdene", "Oyuun", "Tuul", "Ganbold")),
    ("RU", "ru", "+7916555", ("Irina", "Oleg", "Svetlana", "Pavel")),
    ("US", "en", "+1202555", ("Sam", "Jordan", "Casey", "Morgan")),
    ("AE", "ar", "+97150555", ("Layla", "Omar", "Huda")),
    ("JP", "ja", "+8190555", ("Yui", "Haruto", "Aoi")),
    ("VN", "vi", "+8490555", ("Linh", "Minh", "Thao")),
    ("AU", "en", "+61491570", ("Chloe", "Liam", "Ruby")),
    ("CN", "zh", "+86138555", ("Wei", "Xin", "Jun")),
)
_SURNAMES = ("Demova", "Sample", "Example", "Demo", "Testington", "Fictiv", "Placeholder")
# Procedures by how often patients ask; hair regeneration no demo clinic offers, so some
# leads show staff what "no matching clinic" looks like.
_PROCEDURES = {
    "autologous-msc-injection": 8,
    "allogeneic-cell-therapy": 5,
    "stem-cell-prp": 4,
    "prp-knee": 4,
    "high-tibial-osteotomy": 2,
    "microfracture": 2,
    "aci": 2,
    "maci": 1,
    "osteochondral-grafting": 1,
    "stem-cell-fat-grafting": 3,
    "exosome-therapy": 2,
    "nk-cell-therapy": 2,
    "hair-regeneration": 1,
}
_MESSAGES = (
    "My knee has hurt for years; my doctor says grade 3 osteoarthritis. (demo inquiry)",
    "Both knees hurt on the stairs; an MRI last spring showed cartilage loss. (demo inquiry)",
    "I would like to know the cost, the recovery time and how long to stay. (demo inquiry)",
    "A surgeon at home suggested surgery; I want a second opinion in Seoul. (demo inquiry)",
)
# How clinics answer a notice, by weight: silence is let expire by the deadline check.
_ANSWERS = {
    ClinicResponse.CONTACTED: 35,
    ClinicResponse.QUOTED: 30,
    ClinicResponse.DECLINED: 10,
    None: 25,
}


@dataclass(frozen=True)
class _Sources:
    partner_id: int
    partner_key_id: int
    api_key_id: int


def load_demo_leads(
    session: DbSession, upload_dir: str, policy: DeadlinePolicy, now: datetime | None = None
) -> int:
    """Once: a database with leads already gets none (returns 0). `now` ends the 60 days."""
    if session.scalar(select(func.count(Lead.id))):
        return 0
    now = now or utcnow()
    rng = random.Random(SEED)  # noqa: S311 (made-up data, the same every time; no secret)
    sources = _demo_sources(session)
    users = {
        clinic: user
        for clinic, user in session.execute(select(ClinicUser.clinic_id, ClinicUser.id))
    }
    marks = _marks(session)
    made = 0
    for arrived in _arrivals(rng, now):
        made += 1
        lead_id = _arrive(session, rng, arrived, sources, upload_dir, policy.max_clinics, made)
        _answer(session, rng, lead_id, users, policy, now)
    _expire_silent(session, policy, now)
    _settle_history(session, marks)
    return made


def _arrivals(rng: random.Random, now: datetime) -> Iterator[datetime]:
    """Three to five leads a weekday, one or two a weekend day, at daytime hours."""
    first = now.date() - timedelta(days=DAYS - 1)
    for n in range(DAYS):
        day = first + timedelta(days=n)
        count = rng.randint(1, 2) if day.weekday() >= 5 else rng.randint(3, 5)
        for at in sorted(rng.uniform(0, 14) for _ in range(count)):
            arrived = datetime.combine(day, time(), now.tzinfo) + timedelta(hours=1 + at)
            if arrived < now:
                yield arrived


def _demo_sources(session: DbSession) -> _Sources:
    """The demo partner and a staff member's API key, made once."""
    actor = audit.Actor.system("demo")
    partner = session.scalar(select(Partner).where(Partner.name == DEMO_PARTNER))
    if partner is None:
        partner, _ = partners.create_partner(
            session, DEMO_PARTNER, ["https://steppe-knee-travel.example.com"], actor
        )
        session.commit()
    partner_key = session.scalar(select(ApiKey.id).where(ApiKey.partner_id == partner.id))
    api_key = session.scalar(select(ApiKey.id).where(ApiKey.name == DEMO_KEY))
    if api_key is None:
        staff = session.scalar(select(StaffUser).order_by(StaffUser.id))
        if staff is None:
            raise LookupError("the demo API key needs a staff member: load the admin first")
        api_key = keys.create_key(
            session, DEMO_KEY, (INQUIRIES_WRITE,), actor, keys.Owner(staff_user_id=staff.id)
        ).key.id
    assert partner_key is not None
    return _Sources(partner.id, partner_key, api_key)


def _arrive(
    session: DbSession,
    rng: random.Random,
    at: datetime,
    sources: _Sources,
    upload_dir: str,
    max_clinics: int,
    n: int,
) -> int:
    country, language, phone, names = rng.choice(_PATIENTS)
    first, last = rng.choice(names), rng.choice(_SURNAMES)
    procedure = rng.choices(list(_PROCEDURES), weights=list(_PROCEDURES.values()))[0]
    channel = rng.choices(["web", "partner", "api"], weights=[65, 20, 15])[0]
    with _happened_at(session, at):
        # As beat does every few minutes: leads older than a week free their clinics' capacity.
        recount_loads(session, at)
        submitted = submit_inquiry(
            session,
            Inquiry(
                full_name=f"{first} {last}",
                email=f"{first.lower()}.{last.lower()}.{n}@example.com",
                phone=f"{phone}{n:04d}",
                country=country,
                language=language,
                procedure_slug=procedure,
                clinic_slug=None,
                message=rng.choice(_MESSAGES),
                budget_usd=rng.choice([None, 5000, 10000, 15000, 25000]),
                travel_from=None,
                travel_to=None,
                needs_interpreter=language != "en",
                needs_visa_letter=rng.random() < 0.2,
                needs_accommodation=rng.random() < 0.6,
                has_mri=rng.random() < 0.4,
                source=channel,
                partner_id=sources.partner_id if channel == "partner" else None,
                api_key_id={"partner": sources.partner_key_id, "api": sources.api_key_id}.get(
                    channel
                ),
            ),
            None,
            upload_dir,
        )
        session.execute(
            update(Lead)
            .where(Lead.id == submitted.lead_id)
            .values(created_at=at, consented_at=at, updated_at=at)
        )
        # Committed with processing's first step, the count of its attempt.
        process_lead(session, submitted.lead_id, ProcessingPolicy(max_clinics=max_clinics), at)
        # The notices leave a few minutes later; the clinics' clocks start then.
        for assignment_id in _sent(session, submitted.lead_id):
            sent_at = at + timedelta(minutes=rng.randint(2, 20))
            start_answer_clocks(session, sent_at, [{"assignment_id": assignment_id}])
    return submitted.lead_id


def _sent(session: DbSession, lead_id: int) -> list[int]:
    return list(
        session.scalars(
            select(Assignment.id).where(
                Assignment.lead_id == lead_id, Assignment.shared_at.is_not(None)
            )
        )
    )


def _answer(
    session: DbSession,
    rng: random.Random,
    lead_id: int,
    users: dict[int, int],
    policy: DeadlinePolicy,
    now: datetime,
) -> None:
    """Each clinic's answer, at a business-hours delay; one due after `now` is not given
    yet, and silence is left for the deadline check."""
    assignments = session.execute(
        select(Assignment.clinic_id, Assignment.sent_at, Offering.price_min_usd)
        .join(Lead, Lead.id == Assignment.lead_id)
        .join(
            Offering,
            (Offering.clinic_id == Assignment.clinic_id)
            & (Offering.procedure_id == Lead.procedure_id),
        )
        .where(Assignment.lead_id == lead_id, Assignment.sent_at.is_not(None))
        .order_by(Assignment.rank)
    ).all()
    for clinic_id, sent_at, price in assignments:
        assert sent_at is not None  # as selected
        response = rng.choices(list(_ANSWERS), weights=list(_ANSWERS.values()))[0]
        hours = rng.triangular(0.5, policy.reroute_after_hours, 3)
        at = policy.calendar.add_hours(sent_at, hours)
        if response is None or at >= now:
            continue
        with _happened_at(session, at):
            answer(
                session,
                lead_id,
                users[clinic_id],
                response,
                max_clinics=policy.max_clinics,
                quote=_quote(rng, price or 5000, at) if response is ClinicResponse.QUOTED else None,
                reason="Not a candidate for this procedure at our clinic (demo answer)."
                if response is ClinicResponse.DECLINED
                else None,
                now=at,
            )


def _quote(rng: random.Random, price: int, at: datetime) -> QuoteDetails:
    low = round(price * rng.uniform(1.0, 1.3), -2)
    return QuoteDetails(
        price_min=int(low),
        price_max=int(low * 1.25),
        currency="USD",
        includes="Consultation, MRI review, the procedure and two follow-up visits (demo).",
        stay_nights=rng.choice([3, 5, 7, 10]),
        valid_until=(at + timedelta(days=60)).date(),
    )


def _expire_silent(session: DbSession, policy: DeadlinePolicy, now: datetime) -> None:
    """The deadline check as it would have run: at each silent clinic's deadline in turn."""
    silent = session.scalars(
        select(Assignment.sent_at).where(
            Assignment.responded_at.is_(None), Assignment.expired_at.is_(None)
        )
    ).all()
    for due in sorted({policy.due_at(sent_at) for sent_at in silent if sent_at is not None}):
        if due < now:
            with _happened_at(session, due):
                expire_silent(session, policy, due)


# What the services write with the wall clock's time; backdated to when it happened.
_STAMPED: tuple[Any, ...] = (AuditEvent, OutboundEmail, OutboxMessage, Quote)


def _marks(session: DbSession) -> dict[Any, int]:
    return {model: session.scalar(select(func.max(model.id))) or 0 for model in _STAMPED}


@contextmanager
def _happened_at(session: DbSession, at: datetime) -> Iterator[None]:
    """Rows the services add inside this block say they were made at `at`."""
    before = _marks(session)
    yield
    for model, mark in before.items():
        session.execute(update(model).where(model.id > mark).values(created_at=at))
    session.commit()


def _settle_history(session: DbSession, marks: dict[Any, int]) -> None:
    """The demo history's emails count as sent when made and its tasks as published: the
    relay and the worker leave them alone."""
    session.execute(
        update(OutboundEmail)
        .where(OutboundEmail.id > marks[OutboundEmail], OutboundEmail.status == EmailStatus.PENDING)
        .values(status=EmailStatus.SENT, sent_at=OutboundEmail.created_at)
    )
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id > marks[OutboxMessage], OutboxMessage.published_at.is_(None))
        .values(published_at=OutboxMessage.created_at)
    )
    session.commit()
