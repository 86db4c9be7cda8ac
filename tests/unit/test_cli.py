"""The contract's commands (DESIGN §4)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Assignment,
    Clinic,
    ClinicResponse,
    EmailStatus,
    Lead,
    LeadStatus,
    OutboundEmail,
    Procedure,
    Quote,
    StaffRole,
    StaffUser,
)
from app.models.base import utcnow


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


def test_demo_load_fills_60_days_with_answered_leads_once(app: Flask):
    runner = app.test_cli_runner()
    for _ in range(2):
        assert runner.invoke(args=["demo", "load"]).exit_code == 0
    assert db.session.scalar(select(func.count(Clinic.id))) == 3
    leads = db.session.scalars(select(Lead)).all()
    assert 150 <= len(leads) <= 250
    oldest = min(lead.created_at for lead in leads)
    assert timedelta(days=58) < utcnow() - oldest < timedelta(days=60)
    assert {lead.source for lead in leads} == {"web", "partner", "api"}
    assert len({lead.language for lead in leads}) >= 6
    assert all(lead.email.endswith("@example.com") for lead in leads)
    assert {LeadStatus.ROUTED, LeadStatus.CONTACTED, LeadStatus.QUOTED} <= {
        lead.status for lead in leads
    }
    answers = db.session.scalars(select(Assignment)).all()
    assert {a.response for a in answers} >= {
        ClinicResponse.CONTACTED,
        ClinicResponse.QUOTED,
        ClinicResponse.DECLINED,
    }
    assert any(a.expired_at for a in answers)
    assert db.session.scalar(select(func.count(Quote.id))) == sum(
        a.response is ClinicResponse.QUOTED for a in answers
    )
    # The history's emails are not sent again when the system starts.
    assert not db.session.scalar(
        select(func.count(OutboundEmail.id)).where(OutboundEmail.status != EmailStatus.SENT)
    )


def run_in_production(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real `flask --app app …` as an operator following the README's production
    section runs it: everything set except DATA_KEYS, which is what they are making."""
    env = {
        **os.environ,
        "CAREROUTE_ENV": "production",
        "SECRET_KEY": "a-production-secret-key-for-this-test-only",
        "REPLY_TO": "CareRoute <care@careroute.example>",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'production.db'}",
        "DATA_KEYS": "",
    }
    flask = Path(sys.executable).with_name("flask")
    return subprocess.run(
        [str(flask), "--app", "app", *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_an_operator_can_make_the_first_data_key_in_production(tmp_path: Path):
    made = run_in_production(tmp_path, "keys", "generate")

    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    assert Fernet(key).decrypt(Fernet(key).encrypt(b"knee MRI")) == b"knee MRI"


def test_production_still_refuses_to_touch_health_data_without_data_keys(tmp_path: Path):
    rotated = run_in_production(tmp_path, "keys", "rotate")

    assert rotated.returncode != 0
    assert "DATA_KEYS is required in production" in rotated.stderr
