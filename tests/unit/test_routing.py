"""Routing over a table of clinics (DESIGN §8), dedup, and lead processing."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import (
    Assignment,
    Clinic,
    ClinicStatus,
    Lead,
    LeadStatus,
    OutboundEmail,
)
from app.models.base import utcnow
from app.services.leads import routing
from app.services.leads.intake import new_reference
from app.services.leads.processing import process_lead
from app.services.privacy.consent import withdraw_consent
from tests.support.clock import NOW
from tests.support.factories import make_clinic, make_lead, procedure
from tests.support.policies import PROCESSING


def routed_to(lead: Lead) -> list[str]:
    db.session.expire_all()
    return [a.clinic.name for a in db.session.get(Lead, lead.id).assignments]


def give_recent_leads(clinic: Clinic, count: int, days_ago: int = 1) -> None:
    for _ in range(count):
        other = make_lead(
            email=f"{new_reference()}@example.com",
            phone="+77015550999",
            procedure=procedure("prp-knee"),
        )
        db.session.add(
            Assignment(lead=other, clinic=clinic, rank=1, created_at=NOW - timedelta(days=days_ago))
        )
    db.session.flush()
    # History written behind routing's back: count it as beat's recount would.
    routing.recount_loads(db.session, NOW)
    db.session.commit()


def test_clinic_speaking_the_patients_language_ranks_first(app: Flask):
    make_clinic("Alpha", languages=("ko", "en"))
    make_clinic("Bravo", languages=("ko", "ru"))
    lead = make_lead()
    process_lead(db.session, lead.id, PROCESSING, now=NOW)
    assert routed_to(lead) == ["Bravo", "Alpha"]


def test_price_within_budget_ranks_before_price_above_it(app: Flask):
    make_clinic("Alpha", price_min=20000)
    make_clinic("Bravo", price_min=9000)
    make_clinic("Charlie", price_min=None)
    lead = make_lead(budget_usd=10000)
    process_lead(db.session, lead.id, PROCESSING, now=NOW)
    assert routed_to(lead) == ["Bravo", "Charlie", "Alpha"]


def test_more_remaining_capacity_ranks_higher_and_a_full_clinic_gets_nothing(app: Flask):
    full = make_clinic("Alpha", capacity=2)
    busy = make_clinic("Bravo", capacity=5)
    make_clinic("Charlie", capacity=3)
    give_recent_leads(full, 2)
    give_recent_leads(busy, 3)
    lead = make_lead()
    process_lead(db.session, lead.id, PROCESSING, now=NOW)
    assert routed_to(lead) == ["Charlie", "Bravo"]


def test_fairness_breaks_ties_by_fewest_recent_leads(app: Flask):
    alpha = make_clinic("Alpha", capacity=100)
    bravo = make_clinic("Bravo", capacity=100)
    give_recent_leads(alpha, 3, days_ago=20)
    give_recent_leads(bravo, 1, days_ago=20)
    lead = make_lead()
    process_lead(db.session, lead.id, PROCESSING, now=NOW)
    assert routed_to(lead) == ["Bravo", "Alpha"]


def test_a_clinic_is_full_once_routing_has_given_it_its_weekly_capacity(app: Flask):
    make_clinic("Alpha", languages=("ru",), capacity=1)
    make_clinic("Bravo", capacity=10)
    first = make_lead()
    second = make_lead(email="second@example.com", phone="+77015550102")
    process_lead(db.session, first.id, PROCESSING, now=NOW)
    process_lead(db.session, second.id, PROCESSING, now=NOW)
    assert routed_to(first) == ["Alpha", "Bravo"]
    assert routed_to(second) == ["Bravo"]


def test_leads_older_than_a_week_free_capacity_at_the_next_recount(app: Flask):
    alpha = make_clinic("Alpha", capacity=2)
    give_recent_leads(alpha, 2, days_ago=6)
    before = make_lead()
    after = make_lead(email="after@example.com", phone="+77015550102")

    process_lead(db.session, before.id, PROCESSING, now=NOW)
    routing.recount_loads(db.session, NOW + timedelta(days=2))
    db.session.commit()
    process_lead(db.session, after.id, PROCESSING, now=NOW + timedelta(days=2))

    assert routed_to(before) == []
    assert routed_to(after) == ["Alpha"]


def test_beat_recounts_the_clinics_so_old_assignments_stop_counting(app: Flask):
    from workers.tasks.clinics import recount_loads

    alpha = make_clinic("Alpha", capacity=2)
    eight_days_ago = utcnow() - timedelta(days=8)
    for n in range(2):
        other = make_lead(email=f"old{n}@example.com", phone=f"+7701555090{n}")
        db.session.add(Assignment(lead=other, clinic=alpha, rank=1, created_at=eight_days_ago))
    # As counted a day ago, when both were still within the week.
    alpha.week_leads, alpha.month_leads = 2, 2
    db.session.commit()

    recount_loads()

    db.session.expire_all()
    assert (alpha.week_leads, alpha.month_leads) == (0, 2)
    schedule = app.extensions["celery"].conf.beat_schedule.values()
    assert "clinics.recount_loads" in {entry["task"] for entry in schedule}


def test_withdrawn_consent_gives_the_clinic_its_capacity_back_at_once(app: Flask):
    make_clinic("Alpha", capacity=1)
    first = make_lead()
    second = make_lead(email="second@example.com", phone="+77015550102")
    process_lead(db.session, first.id, PROCESSING, now=NOW)
    withdraw_consent(db.session, first.id)
    process_lead(db.session, second.id, PROCESSING, now=NOW)
    assert routed_to(second) == ["Alpha"]


def test_the_chosen_clinic_comes_first_when_it_qualifies(app: Flask):
    make_clinic("Alpha", languages=("ru",))
    chosen = make_clinic("Bravo", languages=("ko",), price_min=50000)
    lead = make_lead(chosen_clinic=chosen)
    process_lead(db.session, lead.id, PROCESSING, now=NOW)
    assert routed_to(lead) == ["Bravo", "Alpha"]


def test_only_up_to_the_maximum_number_of_clinics(app: Flask):
    for name in ("Alpha", "Bravo", "Charlie", "Delta"):
        make_clinic(name)
    lead = make_lead()
    process_lead(db.session, lead.id, PROCESSING, now=NOW)
    assert routed_to(lead) == ["Alpha", "Bravo", "Charlie"]


@pytest.mark.parametrize(
    "excluded",
    [
        {"status": ClinicStatus.SUSPENDED},
        {"status": ClinicStatus.PENDING},
        {"status": ClinicStatus.REJECTED},
        {"offers": "prp-knee"},
        {"licence_expires": date(2026, 11, 1)},
    ],
)
def test_ineligible_clinics_are_never_routed_to(app: Flask, excluded: dict[str, Any]):
    make_clinic("Alpha", **excluded)
    make_clinic("Bravo", licence_expires=date(2027, 1, 1))
    lead = make_lead()
    process_lead(db.session, lead.id, PROCESSING, now=NOW)
    assert routed_to(lead) == ["Bravo"]


def test_no_match_leaves_the_lead_new_and_flagged_with_a_confirmation(app: Flask):
    make_clinic("Alpha", offers="prp-knee")
    lead = make_lead()
    process_lead(db.session, lead.id, PROCESSING, now=NOW)

    db.session.refresh(lead)
    assert lead.status is LeadStatus.NEW and lead.no_matching_clinic
    assert [e.template for e in db.session.scalars(select(OutboundEmail))] == [
        "patient_confirmation"
    ]


def test_each_assignment_stores_its_score_breakdown(app: Flask):
    make_clinic("Alpha", languages=("ru",))
    lead = make_lead()
    process_lead(db.session, lead.id, PROCESSING, now=NOW)
    [assignment] = db.session.scalars(select(Assignment).where(Assignment.lead_id == lead.id))
    assert assignment.score == {
        "rank": 1,
        "chosen_by_patient": False,
        "speaks_language": True,
        "budget_fits": True,
        "remaining_weekly_capacity": 10,
        "leads_last_30_days": 0,
    }


def test_routing_queues_one_notice_per_clinic_and_one_confirmation(app: Flask):
    make_clinic("Alpha")
    make_clinic("Bravo")
    lead = make_lead()
    process_lead(db.session, lead.id, PROCESSING, now=NOW)
    process_lead(db.session, lead.id, PROCESSING, now=NOW)

    templates = sorted(e.template for e in db.session.scalars(select(OutboundEmail)))
    assert templates == ["clinic_new_lead", "clinic_new_lead", "patient_confirmation"]
    assert len(routed_to(lead)) == 2
    assert db.session.get(Lead, lead.id).status is LeadStatus.ROUTED


@pytest.mark.parametrize("same", ["email", "phone"])
def test_the_same_person_and_procedure_within_30_days_is_a_duplicate(app: Flask, same: str):
    make_clinic("Alpha")
    first = make_lead(created_at=NOW - timedelta(days=10))
    process_lead(db.session, first.id, PROCESSING, now=NOW)
    other = {"email": "new@example.com", "phone": "+77015559999"}
    other.pop(same)
    second = make_lead(**other)
    process_lead(db.session, second.id, PROCESSING, now=NOW)

    db.session.expire_all()
    second = db.session.get(Lead, second.id)
    assert second.status is LeadStatus.DUPLICATE and second.duplicate_of_id == first.id
    assert second.assignments == []
    confirmations = db.session.scalars(
        select(OutboundEmail).where(OutboundEmail.template == "patient_confirmation")
    ).all()
    assert {c.context["lead_id"] for c in confirmations} == {first.id, second.id}


def test_older_than_30_days_or_another_procedure_is_not_a_duplicate(app: Flask):
    make_clinic("Alpha")
    make_clinic("Bravo", offers="prp-knee")
    old = make_lead(created_at=NOW - timedelta(days=31))
    other_procedure = make_lead(procedure=procedure("prp-knee"))
    lead = make_lead()
    for item in (old, other_procedure, lead):
        process_lead(db.session, item.id, PROCESSING, now=NOW)
    assert db.session.get(Lead, lead.id).status is LeadStatus.ROUTED


def test_processing_stops_after_the_attempt_limit_and_flags_the_lead(app: Flask):
    lead = make_lead(processing_attempts=3)
    process_lead(db.session, lead.id, PROCESSING, now=NOW)
    db.session.refresh(lead)
    assert lead.processing_failed and lead.processed_at is None
    assert routed_to(lead) == []


def test_spam_and_withdrawn_leads_are_never_routed(app: Flask):
    make_clinic("Alpha")
    spam = make_lead(status=LeadStatus.SPAM)
    withdrawn = make_lead(email="w@example.com", phone="+77015550202", consent_withdrawn_at=NOW)
    for lead in (spam, withdrawn):
        process_lead(db.session, lead.id, PROCESSING, now=NOW)
        assert routed_to(lead) == []
