"""Health data at rest: ciphertext in the table and on disk, plain text in the app, keys that
rotate without losing a thing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import select

from app import create_app
from app.config import ConfigError, load_config
from app.extensions import db
from app.models import Lead, LeadNote, LeadStatus, StaffRole, StaffUser
from app.services.clinics.catalog import load_catalog
from app.services.leads.processing import ProcessingPolicy, process_lead
from app.services.leads.queries import LeadFilters, list_leads
from app.services.privacy import attachments
from tests.support.application import app_settings, make_app
from tests.support.data import PDF_BYTES
from tests.support.factories import attach_pdf, make_clinic, make_lead

MESSAGE = "My left knee locks on stairs; MRI shows a meniscus tear."
PHONE = "+77015550177"
KEY_A, KEY_B = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def raw_rows(settings: dict[str, str]) -> list[tuple[str, str, str]]:
    """The leads table through a plain database connection, not the app."""
    path = settings["DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT phone, message, full_name FROM leads").fetchall()


def write_lead_with_file(app: Flask) -> int:
    with app.app_context():
        lead = make_lead(message=MESSAGE, phone=PHONE, full_name="Dana Rotationova")
        attach_pdf(lead, app.config["UPLOAD_DIR"])
        return lead.id


def test_a_raw_select_shows_ciphertext_and_the_app_reads_plain_text(
    app: Flask, settings: dict[str, str]
):
    lead_id = write_lead_with_file(app)

    [(phone, message, name)] = raw_rows(settings)
    assert PHONE not in phone and "+7701" not in phone
    assert "meniscus" not in message and "knee" not in message
    assert name == "Dana Rotationova"  # names stay searchable in clear
    db.session.expire_all()
    lead = db.session.get(Lead, lead_id)
    assert (lead.phone, lead.message) == (PHONE, MESSAGE)


def test_rotating_from_key_a_to_b_keeps_everything_readable_after_a_is_dropped(
    settings: dict[str, str],
):
    lead_id = write_lead_with_file(make_app(settings, DATA_KEYS=KEY_A))
    [(phone_under_a, _, _)] = raw_rows(settings)

    both = make_app(settings, DATA_KEYS=f"{KEY_B},{KEY_A}")
    first = both.test_cli_runner().invoke(args=["keys", "rotate", "--batch", "1"])
    again = both.test_cli_runner().invoke(args=["keys", "rotate"])
    assert "done: 1 leads and 1 files re-encrypted" in first.output, first.output
    assert "done: 0 leads and 0 files re-encrypted" in again.output

    only_b = make_app(settings, DATA_KEYS=KEY_B)
    with only_b.app_context():
        lead = db.session.get(Lead, lead_id)
        assert (lead.phone, lead.message) == (PHONE, MESSAGE)
        assert attachments.read(only_b.config["UPLOAD_DIR"], lead.attachments[0].stored_name) == (
            PDF_BYTES
        )
        found = list_leads(db.session, LeadFilters(search="+7 701 555 0177"), staff_id=0)
        assert [row.id for row in found.leads] == [lead_id]
        file_token = Path(only_b.config["UPLOAD_DIR"], lead.attachments[0].stored_name).read_bytes()
    [(phone_under_b, message_under_b, _)] = raw_rows(settings)
    assert phone_under_b != phone_under_a
    for token in (phone_under_b.encode(), message_under_b.encode(), file_token):
        with pytest.raises(InvalidToken):
            Fernet(KEY_A).decrypt(token)


def test_dedup_by_phone_still_works_half_way_through_a_rotation(settings: dict[str, str]):
    with make_app(settings, DATA_KEYS=KEY_A).app_context():
        make_clinic("Alpha")
        first_id = make_lead(phone=PHONE, email="first@example.com").id
    with make_app(settings, DATA_KEYS=f"{KEY_B},{KEY_A}").app_context():
        second = make_lead(phone=PHONE, email="second@example.com")
        process_lead(db.session, second.id, ProcessingPolicy(max_clinics=1))
        db.session.expire_all()
        lead = db.session.get(Lead, second.id)
        assert lead.status is LeadStatus.DUPLICATE and lead.duplicate_of_id == first_id


def test_production_refuses_to_start_without_data_keys(tmp_path: Path):
    settings = app_settings(tmp_path, CAREROUTE_ENV="production", DATA_KEYS="")
    with pytest.raises(ConfigError, match="DATA_KEYS is required in production"):
        create_app(settings)
    with pytest.raises(ConfigError, match="not a Fernet key"):
        create_app(app_settings(tmp_path, DATA_KEYS="not-a-key"))


def test_development_generates_one_key_into_the_instance_folder(tmp_path: Path):
    first = load_config({"CAREROUTE_ENV": "development"}, tmp_path)["DATA_KEYS"]
    second = load_config({"CAREROUTE_ENV": "development"}, tmp_path)["DATA_KEYS"]
    assert first == second and len(first) == 1
    assert (tmp_path / "data_keys").stat().st_mode & 0o777 == 0o600
    Fernet(first[0])


def test_the_search_stays_on_clear_fields_and_the_phone_blind_index(app: Flask):
    lead = make_lead(phone=PHONE, full_name="Dana Searchova", email="dana@example.com")
    for term in ("Dana", "dana@example.com", lead.reference, PHONE):
        found = list_leads(db.session, LeadFilters(search=term), staff_id=0).leads
        assert [row.id for row in found] == [lead.id], term


def test_the_migration_encrypts_the_rows_and_files_that_were_stored_in_clear(
    settings: dict[str, str],
):
    app = create_app(settings)
    with app.app_context():
        upgrade()
        load_catalog(db.session)
    lead_id = write_lead_with_file(app)
    with app.app_context():
        stored = Path(
            app.config["UPLOAD_DIR"], db.session.get(Lead, lead_id).attachments[0].stored_name
        )
        db.session.remove()
        downgrade(revision="1445dce161d0")  # the schema as it was before encryption
        assert raw_rows(settings)[0][:2] == (PHONE, MESSAGE)
        assert stored.read_bytes() == PDF_BYTES

        upgrade()

        [(phone, message, _)] = raw_rows(settings)
        assert PHONE not in phone and "meniscus" not in message
        assert stored.read_bytes() != PDF_BYTES
        lead = db.session.get(Lead, lead_id)
        assert (lead.phone, lead.message) == (PHONE, MESSAGE)
        assert (
            attachments.read(app.config["UPLOAD_DIR"], lead.attachments[0].stored_name) == PDF_BYTES
        )
        found = list_leads(db.session, LeadFilters(search=PHONE), staff_id=0).leads
        assert [row.id for row in found] == [lead_id]


def test_the_life_cycle_migration_encrypts_notes_and_settles_withdrawn_leads(
    settings: dict[str, str],
):
    app = create_app(settings)
    with app.app_context():
        upgrade()
        load_catalog(db.session)
    lead_id = write_lead_with_file(app)
    path = settings["DATABASE_URL"].removeprefix("sqlite:///")
    with app.app_context():
        staff = StaffUser(email="s@careroute.test", password_hash="-", role=StaffRole.TRIAGER)
        db.session.add(staff)
        db.session.flush()
        db.session.add(LeadNote(lead_id=lead_id, staff_user_id=staff.id, body="Has diabetes."))
        lead = db.session.get(Lead, lead_id)
        lead.status, lead.consent_withdrawn_at = LeadStatus.ROUTED, lead.created_at
        db.session.commit()
        db.session.remove()
        downgrade(revision="8d32516ff999")  # before the life cycle: notes in clear
        with sqlite3.connect(path) as raw:
            assert raw.execute("SELECT body FROM lead_notes").fetchone() == ("Has diabetes.",)

        upgrade()

        with sqlite3.connect(path) as raw:
            assert "diabetes" not in raw.execute("SELECT body FROM lead_notes").fetchone()[0]
            assert raw.execute("SELECT status FROM leads").fetchone() == ("withdrawn",)
        assert db.session.scalar(select(LeadNote.body)) == "Has diabetes."
