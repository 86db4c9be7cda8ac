"""The contract's commands (DESIGN §4)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet
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
