"""Every email the platform sends, in every language it is sent in, against its snapshot.

Each registered email template is rendered from the same fixed, fictional data (factories, a
frozen clock, pinned settings) and compared with `tests/snapshots/email/<template>.<language>.txt`:
the subject line, a blank line, then the plain-text body. Changing an email means changing its
snapshot, so the change is reviewed as a diff:

    UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/unit/test_email_snapshots.py -q -p no:cacheprovider

rewrites the files (and removes those of emails that no longer exist).

Signed links carry the time they were made, so their tokens differ at every render. Each one is
checked to be a valid token for its purpose and written as `<purpose token: payload>`; the rest
of the text is compared as it is.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from app.extensions import db
from app.i18n import CONSOLE_LOCALES
from app.models import (
    Assignment,
    Clinic,
    ClinicCredential,
    ClinicStatus,
    ClinicUser,
    Lead,
    PrivacyRequest,
    PrivacyRequestKind,
)
from app.services.links import InvalidLink, unsign
from app.services.mail import messages
from app.services.mail.messages import render
from tests.support.application import app_settings
from tests.support.clock import NOW
from tests.support.factories import (
    make_clinic,
    make_clinic_user,
    make_privacy_request,
    routed_lead,
)

SNAPSHOTS = Path(__file__).parents[1] / "snapshots" / "email"
TRANSLATIONS = Path(__file__).parents[2] / "app" / "translations"
UPDATING = os.environ.get("UPDATE_SNAPSHOTS") == "1"

# English is the source language; every other compiled catalogue is a language emails are
# sent in, so a new one gets its snapshots without a change here.
LANGUAGES = sorted(
    {"en", *(mo.parents[1].name for mo in TRANSLATIONS.glob("*/LC_MESSAGES/messages.mo"))}
)
TEMPLATES = sorted(messages._BUILDERS)  # every email the app can send, as registered


def is_sent_in(template: str, language: str) -> bool:
    """Patients are written to in every language there is a catalogue for; clinics and staff
    work in Korean or English (app.i18n), so their emails go out in those only."""
    return messages.is_for_patient(template) or language in CONSOLE_LOCALES


CASES = [(t, language) for t in TEMPLATES for language in LANGUAGES if is_sent_in(t, language)]

# The purposes the app signs links for (app.services.links.sign): a token is shown by its
# purpose and payload once it verifies as one of them.
PURPOSES = (
    "clinic-email",
    "clinic-password",
    "consent-withdraw",
    "data-copy",
    "portal-lead",
    "privacy",
)


@dataclass(frozen=True)
class World:
    """The fictional data every email is rendered from."""

    clinic: Clinic  # listed, insured until 20 December, its portal account not set up yet
    user: ClinicUser  # the clinic's own address, invited, no password yet
    insurance: ClinicCredential
    applicant: Clinic  # applied, not reviewed
    rejected: Clinic
    lead: Lead  # routed to the clinic and one other
    assignment: Assignment  # the lead at the clinic
    request: PrivacyRequest  # the patient's copy, asked for and made


def build_world() -> World:
    clinic = make_clinic(
        "Seolleung Test Clinic", languages=("ko", "en"), insured_until=date(2026, 12, 20)
    )
    make_clinic("Namsan Test Hospital", languages=("ko", "en", "ja"))
    user = make_clinic_user(clinic, with_password=False)
    applicant = make_clinic("Bukhansan Test Clinic", status=ClinicStatus.PENDING)
    rejected = make_clinic(
        "Gwanak Test Clinic",
        status=ClinicStatus.REJECTED,
        status_reason="The licence number does not match the one in the national registry.",
    )
    lead = routed_lead(
        reference="CR-TEST-0001",
        full_name="Aigerim Testova",
        email="aigerim.testova@example.com",
        language="en",
    )
    request = make_privacy_request(PrivacyRequestKind.EXPORT, lead.email, lead, handled_at=NOW)
    return World(
        clinic=clinic,
        user=user,
        insurance=next(c for c in clinic.credentials if c.code == "insurance"),
        applicant=applicant,
        rejected=rejected,
        lead=lead,
        assignment=next(a for a in lead.assignments if a.clinic_id == clinic.id),
        request=request,
    )


# What the outbox row of each email holds (the ids and values its builder takes).
CONTEXTS: dict[str, Callable[[World], dict[str, Any]]] = {
    "clinic_verify": lambda w: {"clinic_id": w.applicant.id},
    "staff_new_clinic": lambda w: {"clinic_id": w.applicant.id},
    "clinic_approved": lambda w: {"clinic_id": w.clinic.id},
    "clinic_rejected": lambda w: {"clinic_id": w.rejected.id},
    "clinic_suspended": lambda w: {
        "clinic_id": w.clinic.id,
        "reason": "Three patients reported that the clinic did not answer them.",
    },
    "credential_expiring": lambda w: {
        "credential_id": w.insurance.id,
        "expires_on": w.insurance.expires_on.isoformat(),  # type: ignore[union-attr]
    },
    "patient_confirmation": lambda w: {"lead_id": w.lead.id},
    "clinic_new_lead": lambda w: {"assignment_id": w.assignment.id},
    "clinic_reminder": lambda w: {
        "assignment_id": w.assignment.id,
        "due_at": "2026-11-27T09:00:00+00:00",
    },
    "patient_clinic_answered": lambda w: {"lead_id": w.lead.id, "assignment_id": w.assignment.id},
    "staff_privacy_request": lambda w: {"request_id": w.request.id},
    "patient_data_copy": lambda w: {"request_id": w.request.id},
    "clinic_password": lambda w: {"user_id": w.user.id, "why": "invite"},
    "clinic_consent_withdrawn": lambda w: {"assignment_id": w.assignment.id},
}

_URL = re.compile(r"(https?://[^/\s]+)(\S*)")
_TOKEN = re.compile(r"[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


def _signed_link_parts(text: str, unknown: list[str]) -> str:
    """`text` with each signed token in a link replaced by its purpose and payload; a
    token-shaped part that verifies for no known purpose is left and added to `unknown`."""

    def token(match: re.Match[str]) -> str:
        for purpose in PURPOSES:
            try:
                payload = unsign(purpose, match[0])
            except InvalidLink:
                continue
            return f"<{purpose} token: {json.dumps(payload, sort_keys=True)}>"
        unknown.append(match[0])
        return match[0]

    return _URL.sub(lambda url: url[1] + _TOKEN.sub(token, url[2]), text)


def snapshot(template: str, language: str) -> str:
    """The email as its snapshot file holds it."""
    world = build_world()
    email = render(db.session, template, CONTEXTS[template](world), language)
    unknown: list[str] = []
    text = _signed_link_parts(f"Subject: {email.subject}\n\n{email.text}\n", unknown)
    assert not unknown, (
        f"{template} links to {unknown}, signed for a purpose this test does not know: "
        "add the purpose to PURPOSES"
    )
    return text


@pytest.fixture
def settings(tmp_path: Path) -> dict[str, str]:
    """Everything an email takes from configuration, pinned: the environment changes nothing."""
    return app_settings(
        tmp_path,
        BASE_URL="https://careroute.example",
        BUSINESS_TIMEZONE="Asia/Seoul",
        BUSINESS_HOURS="09:00-18:00",
        BUSINESS_COUNTRY="KR",
        CLINIC_REMINDER_HOURS="24",
        CLINIC_REROUTE_HOURS="48",
        EMAIL_LINK_MAX_AGE_SECONDS=str(7 * 24 * 3600),
    )


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Emails rendered at NOW (a clinic's answer deadline is counted from the render)."""
    monkeypatch.setattr(messages, "utcnow", lambda: NOW)


@pytest.mark.parametrize(("template", "language"), CASES, ids=lambda value: value)
def test_every_email_matches_its_snapshot(
    app: Flask, frozen_clock: None, template: str, language: str
):
    assert template in CONTEXTS, f"no fixture data for the email {template}: add it to CONTEXTS"
    path = SNAPSHOTS / f"{template}.{language}.txt"
    rendered = snapshot(template, language)

    if UPDATING:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rendered, encoding="utf-8")
        return
    assert path.exists(), (
        f"{template} in {language} has no snapshot: run this test with UPDATE_SNAPSHOTS=1 "
        "and review the new file"
    )
    assert rendered == path.read_text(encoding="utf-8")


def _is_stale(snapshot: Path) -> bool:
    """Of a template no longer registered, a language with no catalogue (compiled here or
    not), or an email not sent in that language."""
    template, language = snapshot.name.split(".")[:2]
    catalogued = (
        language in LANGUAGES or (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").exists()
    )
    return template not in TEMPLATES or not catalogued or not is_sent_in(template, language)


def test_every_snapshot_is_of_an_email_that_is_sent():
    """A snapshot of an email that is never sent checks nothing. (A language whose catalogue
    is not compiled in this checkout keeps its snapshots: `make translations` compiles it.)"""
    stale = sorted(path for path in SNAPSHOTS.glob("*.txt") if _is_stale(path))
    if UPDATING:
        for path in stale:
            path.unlink()
        return
    assert not stale, (
        f"snapshots of emails that are not sent: {[p.name for p in stale]} "
        "(UPDATE_SNAPSHOTS=1 removes them)"
    )
