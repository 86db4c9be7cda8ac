"""Routings running at the same moment on PostgreSQL never overbook or share a fairness slot."""

from __future__ import annotations

import threading

import pytest
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import Assignment
from app.services.leads.processing import ProcessingPolicy, process_lead
from tests.support.factories import make_clinic, make_lead

pytestmark = pytest.mark.integration


def route_at_once(app: Flask, lead_ids: list[int], policy: ProcessingPolicy) -> None:
    barrier = threading.Barrier(len(lead_ids))
    errors: list[BaseException] = []

    def run(lead_id: int) -> None:
        with app.app_context():
            try:
                barrier.wait()
                process_lead(db.session, lead_id, policy)
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
