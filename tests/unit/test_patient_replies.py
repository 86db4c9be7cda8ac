"""Patient emails ask for a reply: the reply reaches a mailbox the team reads, not no-reply."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.config import ConfigError
from app.extensions import db
from app.models import OutboundEmail
from app.services.leads.emails import tell_patient_clinic_answered
from app.services.mail import messages, smtp
from app.services.mail.delivery import DeliveryPolicy, deliver, message_id
from tests.support.application import app_settings, make_app
from tests.support.factories import make_clinic, routed_lead
from tests.support.smtp_server import SmtpServer

REPLY_TO = "CareRoute patient care <care@careroute.example>"
EMAIL_TEMPLATES = Path(__file__).parents[2] / "templates" / "email"


@pytest.fixture
def settings(tmp_path: Any) -> dict[str, str]:
    return app_settings(tmp_path, REPLY_TO=REPLY_TO)


def sent(app: Flask, server: SmtpServer, template: str) -> Any:
    """The outbox email made from `template`, delivered to `server` as the worker would
    (with its lead's other due emails, or by an earlier delivery of one of them)."""
    email = db.session.scalar(select(OutboundEmail).where(OutboundEmail.template == template))
    deliver(
        db.session,
        email.id,
        smtp.SmtpSettings.from_url(server.url, timeout=2.0),
        DeliveryPolicy.from_config(app.config),
    )
    wanted = message_id(email.id, app.config["MAIL_FROM"])
    return next(message for message in server.messages if message["Message-ID"] == wanted)


def test_patient_emails_send_replies_to_the_configured_mailbox(app: Flask, smtp_server: SmtpServer):
    make_clinic("Alpha")
    lead = routed_lead(language="en")
    tell_patient_clinic_answered(db.session, lead, lead.assignments[0])
    db.session.commit()

    answered = sent(app, smtp_server, "patient_clinic_answered")
    confirmation = sent(app, smtp_server, "patient_confirmation")

    assert "reply to this email" in answered.get_body(("plain",)).get_content()
    for message in (answered, confirmation):
        assert message["Reply-To"] == REPLY_TO
        assert message["From"] == app.config["MAIL_FROM"]


def test_a_clinic_notice_does_not_send_replies_to_the_patients_mailbox(
    app: Flask, smtp_server: SmtpServer
):
    make_clinic("Alpha")
    routed_lead(language="en")

    notice = sent(app, smtp_server, "clinic_new_lead")

    assert notice["Reply-To"] is None
    assert "reply" not in notice.get_body(("plain",)).get_content().lower()


def test_every_email_that_asks_for_a_reply_is_sent_with_a_reply_to():
    asking = sorted(
        path.stem for path in EMAIL_TEMPLATES.glob("*.txt") if "reply" in path.read_text().lower()
    )
    assert asking, "no email asks for a reply: this test checks nothing"
    assert [name for name in asking if not messages.is_for_patient(name)] == []


def test_production_refuses_to_start_without_a_reply_to(tmp_path: Path):
    settings = app_settings(tmp_path, CAREROUTE_ENV="production", REPLY_TO="")
    with pytest.raises(ConfigError, match="REPLY_TO is required in production"):
        make_app(settings)


def test_a_reply_to_that_is_not_an_address_stops_start_up(tmp_path: Path):
    with pytest.raises(ConfigError, match="REPLY_TO"):
        make_app(app_settings(tmp_path, REPLY_TO="the care team"))
