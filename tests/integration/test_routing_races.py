"""Routings running at the same moment on PostgreSQL never overbook or share a fairness slot."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import func, select, text, update

from app.extensions import db
from app.models import Assignment, Clinic, Lead, LeadStatus, StaffRole
from app.services.leads.assignment_rules import RuleSpec, assign_by_rules, create_rule
from app.services.leads.processing import ProcessingPolicy, process_lead
from tests.support.factories import make_clinic, make_lead, make_staff
from tests.support.stack import wait_until

pytestmark = pytest.mark.integration


def route_at_once(app: Flask, lead_ids: list[int], policy: ProcessingPolicy) -> None:
    at_once(app, lead_ids, lambda lead_id: process_lead(db.session, lead_id, policy))


def at_once(app: Flask, lead_ids: list[int], work: Callable[[int], None]) -> None:
    """`work` for each lead, each in its own thread and session, started together."""
    barrier = threading.Barrier(len(lead_ids))
    errors: list[BaseException] = []

    def run(lead_id: int) -> None:
        with app.app_context():
            try:
                barrier.wait()
                work(lead_id)
            except BaseException as exc:  # surfaced to the test below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(lead_id,)) for lead_id in lead_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors


def test_concurrent_routings_never_push_a_clinic_past_its_weekly_capacity(stack_app: Flask):
    clinic = make_clinic("Alpha", capacity=2)
    leads = [make_lead(email=f"p{n}@example.com", phone=f"+7701555{n:04d}") for n in range(6)]

    route_at_once(stack_app, [lead.id for lead in leads], ProcessingPolicy(max_clinics=3))

    db.session.expire_all()
    given = db.session.scalars(select(Assignment).where(Assignment.clinic_id == clinic.id)).all()
    assert len(given) == 2


def test_concurrent_routings_share_leads_fairly(stack_app: Flask):
    make_clinic("Alpha", capacity=100)
    make_clinic("Bravo", capacity=100)
    leads = [make_lead(email=f"q{n}@example.com", phone=f"+7701666{n:04d}") for n in range(4)]

    route_at_once(stack_app, [lead.id for lead in leads], ProcessingPolicy(max_clinics=1))

    db.session.expire_all()
    per_clinic = [a.clinic.name for a in db.session.scalars(select(Assignment))]
    assert sorted(per_clinic) == ["Alpha", "Alpha", "Bravo", "Bravo"]


def test_eight_concurrent_routings_fill_three_clinics_of_two_places_exactly(stack_app: Flask):
    clinics = [make_clinic(name, capacity=2) for name in ("Alpha", "Bravo", "Charlie")]
    leads = [make_lead(email=f"r{n}@example.com", phone=f"+7701777{n:04d}") for n in range(8)]

    route_at_once(stack_app, [lead.id for lead in leads], ProcessingPolicy(max_clinics=3))

    db.session.expire_all()
    given = db.session.scalars(select(Assignment)).all()
    assert len(given) == 6
    for clinic in clinics:
        assert sum(a.clinic_id == clinic.id for a in given) == 2
        db.session.refresh(clinic)
        assert clinic.week_leads == 2
    routed = {a.lead_id for a in given}
    unmatched = {lead.id for lead in leads} - routed
    for lead_id in unmatched:  # only once every place was taken
        assert db.session.get(Lead, lead_id).no_matching_clinic


def leads_choosing_one_of_four_clinics(count: int) -> tuple[Clinic, list[Lead]]:
    """Four clinics with places to spare, and `count` leads whose patients chose the first."""
    chosen = make_clinic("Alpha", capacity=20)
    for name in ("Bravo", "Charlie", "Delta"):
        make_clinic(name, capacity=20)
    leads = [
        make_lead(email=f"t{n}@example.com", phone=f"+7701999{n:04d}", chosen_clinic_id=chosen.id)
        for n in range(count)
    ]
    return chosen, leads


def test_leads_that_chose_the_same_clinic_are_routed_at_once_without_a_deadlock(
    stack_app: Flask,
):
    """Updating a lead row twice in one transaction re-checks its foreign keys, the chosen
    clinic's too: that check must not wait for a clinic another routing holds, or routings
    holding their clinics and routings waiting for them in id order deadlock."""
    _, leads = leads_choosing_one_of_four_clinics(8)

    route_at_once(stack_app, [lead.id for lead in leads], ProcessingPolicy(max_clinics=3))

    db.session.expire_all()
    assert all(db.session.get(Lead, lead.id).status is LeadStatus.ROUTED for lead in leads)


def test_the_clinic_a_patient_chose_is_not_passed_over_because_another_routing_holds_it(
    stack_app: Flask,
):
    chosen, leads = leads_choosing_one_of_four_clinics(8)

    route_at_once(stack_app, [lead.id for lead in leads], ProcessingPolicy(max_clinics=3))

    db.session.expire_all()
    for lead in leads:
        first = db.session.scalar(
            select(Assignment.clinic_id).where(Assignment.lead_id == lead.id, Assignment.rank == 1)
        )
        assert first == chosen.id


def test_routing_waits_for_clinics_held_elsewhere_rather_than_finding_no_match(
    stack_app: Flask,
):
    """A recount (or a staff member adding clinics) may hold every clinic a lead fits:
    routing then waits for them instead of flagging "no matching clinic"."""
    clinic = make_clinic("Alpha", capacity=3)
    leads = [make_lead(email=f"s{n}@example.com", phone=f"+7701888{n:04d}") for n in range(2)]
    holder = db.engine.connect()
    holder.execute(select(Clinic.id).with_for_update()).all()
    release = threading.Timer(1.0, holder.rollback)
    release.start()
    try:
        route_at_once(stack_app, [lead.id for lead in leads], ProcessingPolicy(max_clinics=1))
    finally:
        release.join()
        holder.close()

    db.session.expire_all()
    assert db.session.scalar(select(func.count(Assignment.id))) == 2
    assert not any(db.session.get(Lead, lead.id).no_matching_clinic for lead in leads)
    db.session.refresh(clinic)
    assert clinic.week_leads == 2


def waiting_for_a_lock() -> bool:
    """Whether a session of this test's database waits for a lock at this moment."""
    with db.engine.connect() as probe:
        return bool(
            probe.scalar(
                text(
                    "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                    "WHERE NOT l.granted AND a.datname = current_database()"
                )
            )
        )


def test_a_place_freed_while_routing_waited_is_not_given_twice(stack_app: Flask):
    """Routing that found every fitting clinic held waits for them, then ranks afresh. A
    clinic that gained a place meanwhile (a recount) is then among the ranked though this
    routing never locked it; if another routing is taking that place this moment, counting
    the lead there too would push the clinic past its capacity."""
    full = make_clinic("Alpha", capacity=1)
    held = make_clinic("Bravo", capacity=5)
    db.session.execute(update(Clinic).where(Clinic.id == full.id).values(week_leads=1))
    db.session.commit()
    lead = make_lead(email="u1@example.com", phone="+77015550201")
    holder, taker = db.engine.connect(), db.engine.connect()
    holder.execute(select(Clinic.id).where(Clinic.id == held.id).with_for_update()).all()
    routing = threading.Thread(
        target=route_at_once, args=(stack_app, [lead.id], ProcessingPolicy(max_clinics=3))
    )
    routing.start()
    try:
        wait_until(waiting_for_a_lock, timeout=10, message="routing waiting for Bravo")
        with db.engine.begin() as recount:  # Alpha's week frees its place
            recount.execute(update(Clinic).where(Clinic.id == full.id).values(week_leads=0))
        taker.execute(  # another routing takes it, not yet committed
            update(Clinic).where(Clinic.id == full.id).values(week_leads=Clinic.week_leads + 1)
        )
        holder.rollback()
        time.sleep(1.0)  # routing ranks afresh and counts
        taker.commit()
    finally:
        routing.join(30)
        holder.close()
        taker.close()

    db.session.expire_all()
    assert db.session.get(Clinic, full.id).week_leads == 1
    given = db.session.scalars(select(Assignment.clinic_id).where(Assignment.lead_id == lead.id))
    assert list(given) == [held.id]


def test_concurrent_leads_take_turns_exactly_in_an_assignment_rules_pool(stack_app: Flask):
    """Each worker locks the rule's row while it picks (routing's own lock aside): six
    leads at once, three staff on duty, two leads each."""
    pool = []
    for name in ("a", "b", "c"):
        member = make_staff(f"{name}@careroute.test")
        member.on_duty = True
        pool.append(member)
    db.session.commit()
    admin = make_staff("admin@careroute.test", StaffRole.ADMIN)
    create_rule(db.session, RuleSpec(None, None, [m.id for m in pool], False), admin)
    leads = [make_lead(email=f"r{n}@example.com", phone=f"+7701777{n:04d}") for n in range(6)]

    def assign(lead_id: int) -> None:
        lead = db.session.get(Lead, lead_id, with_for_update=True)
        assert lead is not None
        assign_by_rules(db.session, lead)
        db.session.commit()

    at_once(stack_app, [lead.id for lead in leads], assign)

    db.session.expire_all()
    assignees = db.session.scalars(select(Lead.assigned_to_id)).all()
    assert sorted(assignees) == sorted([m.id for m in pool] * 2)
