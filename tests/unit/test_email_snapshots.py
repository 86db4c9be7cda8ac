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
from pathlib import Path

import pytest
from flask import Flask

from app.extensions import db
from app.i18n import CONSOLE_LOCALES
from app.services.links import InvalidLink, unsign
from app.services.mail import messages
from app.services.mail.messages import render
from tests.support.application import app_settings
from tests.support.clock import NOW
from tests.support.email_world import CONTEXTS, build_world

SNAPSHOTS = Path(__file__).parents[1] / "snapshots" / "email"
TRANSLATIONS = Path(__file__).parents[2] / "app" / "translations"
UPDATING = os.environ.get("UPDATE_SNAPSHOTS") == "1"

# English is the source language; every other catalogue is a language emails are sent in,
# so a new one gets its snapshots without a change here (and an uncompiled one fails).
LANGUAGES = sorted(
    {"en", *(mo.parents[1].name for mo in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))}
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
    "inquiry-status",
    "portal-lead",
    "privacy",
)


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
