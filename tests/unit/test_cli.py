"""The contract's commands (DESIGN §4)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from app.extensions import db
from app.models import Clinic, Lead, LeadStatus, Procedure, StaffRole, StaffUser


def test_catalog_load_is_idempotent(app: Flask):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["catalog", "load"])
    assert "0 created, 0 updated" in result.output
    assert db.session.scalar(select(func.count(Procedure.id))) == 13


def test_staff_create_reads_the_password_from_stdin(app: Flask):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["staff", "create", "Lead@Careroute.test", "--role", "admin", "--password-stdin"],
        input="a long enough password\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(StaffUser))
    assert (user.email, user.role) == ("lead@careroute.test", StaffRole.ADMIN)

    short = runner.invoke(
        args=["staff", "create", "b@careroute.test", "--role", "triager", "--password-stdin"],
        input="short\n",
    )
    assert short.exit_code != 0 and "12 characters" in short.output


def test_demo_load_adds_routed_demo_data_once(app: Flask):
    runner = app.test_cli_runner()
    for _ in range(2):
        assert runner.invoke(args=["demo", "load"]).exit_code == 0
    assert db.session.scalar(select(func.count(Clinic.id))) == 3
    statuses = db.session.scalars(select(Lead.status)).all()
    assert len(statuses) == 4 and set(statuses) == {LeadStatus.ROUTED}


def test_demo_leads_inserts_in_bulk(app: Flask):
    result = app.test_cli_runner().invoke(args=["demo", "leads", "--count", "250"])
    assert "250 leads inserted" in result.output
    assert db.session.scalar(select(func.count(Lead.id))) == 250
