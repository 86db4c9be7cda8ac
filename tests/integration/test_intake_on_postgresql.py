"""The inquiry on PostgreSQL, where the lead, its processing task and its audit event are
written by one statement: the same rows the three statements on SQLite write
(`tests/unit/test_inquiry_form.py`), and the same answers to spam and a resubmission."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Lead, LeadStatus, OutboxMessage
from app.services.leads.intake import CONSENT_VERSION
from tests.support.checks import count
from tests.support.data import inquiry
from tests.support.forms import as_the_browser_sends_it, submit

pytestmark = pytest.mark.integration


def test_the_lead_its_task_and_its_event_are_stored_together(stack_app: Flask):
    response = submit(stack_app.test_client(), "/inquire", inquiry())

    assert response.status_code == 302
    lead = db.session.scalar(select(Lead))
    assert (lead.status, lead.full_name, lead.phone) == (
        LeadStatus.NEW,
        "Aigerim Testova",
        "+77015550101",
    )
    assert lead.procedure.slug == "autologous-msc-injection"
    assert [(m.task, m.args, m.created_at) for m in db.session.scalars(select(OutboxMessage))] == [
        ("leads.process", [lead.id], lead.created_at)
    ]
    event = db.session.scalar(select(AuditEvent))
    assert (event.actor_type, event.actor_id, event.actor_label) == ("public", None, "patient")
    assert (event.action, event.object_type, event.object_id) == ("lead.received", "lead", lead.id)
    assert event.changes == {
        "procedure": "autologous-msc-injection",
        "consent_version": CONSENT_VERSION,
    }
    assert event.created_at == lead.created_at


def test_spam_is_stored_with_its_event_and_no_task(stack_app: Flask):
    submit(stack_app.test_client(), "/inquire", inquiry(nickname="buy-now"))

    lead = db.session.scalar(select(Lead))
    assert (lead.status, lead.spam_reason) == (LeadStatus.SPAM, "honeypot")
    assert count(OutboxMessage) == 0
    assert db.session.scalars(select(AuditEvent.action)).all() == ["lead.spam_received"]


def test_the_same_form_sent_twice_is_one_lead_with_one_task(stack_app: Flask):
    client = stack_app.test_client()
    data = as_the_browser_sends_it(client)

    first = client.post("/inquire", data=data)
    second = client.post("/inquire", data=data)

    assert first.status_code == second.status_code == 302
    assert (count(Lead), count(OutboxMessage), count(AuditEvent)) == (1, 1, 1)
    reference = db.session.scalar(select(Lead.reference))
    assert reference in client.get("/inquire/thanks").text
