"""The clinic portal: accounts and links, a clinic's own leads, answers, listing, colleagues."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.models import (
    Assignment,
    AuditEvent,
    Clinic,
    ClinicResponse,
    ClinicUser,
    Lead,
    LeadStatus,
    OutboundEmail,
    Quote,
)
from app.models.base import utcnow
from app.services.answers.business_hours import DeadlinePolicy
from app.services.clinics.verification_links import clinic_verification_token
from app.services.leads.processing import process_lead
from tests.support.application import make_app
from tests.support.checks import count, field_error
from tests.support.clock import NOW
from tests.support.data import PDF_BYTES, clinic_application, quote_answers
from tests.support.emails import links_in, path_of, rendered
from tests.support.factories import (
    CLINIC_PASSWORD,
    STAFF_PASSWORD,
    attach_pdf,
    make_clinic,
    make_clinic_user,
    make_lead,
    routed_lead,
)
from tests.support.forms import filled_in, submit
from tests.support.policies import PROCESSING
from tests.support.portal import sign_in

PATIENT = "Aigerim Routedova"
DASH = "\N{EN DASH}"  # price ranges are printed with it


@dataclass
class Routed:
    lead: Lead
    alpha: Clinic
    bravo: Clinic
    outsider: Clinic


@pytest.fixture
def routed(app: Flask) -> Routed:
    """One lead routed to Alpha and Bravo; Charlie (another procedure) never had it."""
    alpha, bravo = make_clinic("Alpha"), make_clinic("Bravo")
    outsider = make_clinic("Charlie", offers="prp-knee")
    for clinic in (alpha, bravo, outsider):
        make_clinic_user(clinic)
    lead = make_lead(full_name=PATIENT, language="en")
    attach_pdf(lead, app.config["UPLOAD_DIR"])
    process_lead(db.session, lead.id, PROCESSING, now=NOW)
    return Routed(lead, alpha, bravo, outsider)


def assignment_of(lead: Lead, clinic: Clinic) -> Assignment:
    db.session.expire_all()
    return db.session.scalar(
        select(Assignment).where(Assignment.lead_id == lead.id, Assignment.clinic_id == clinic.id)
    )


# --- accounts and links ------------------------------------------------------------------


def test_the_verification_link_leads_to_a_password_that_can_be_set_once(client: FlaskClient):
    assert submit(client, "/clinics/join", clinic_application()).status_code == 302
    clinic = db.session.scalar(select(Clinic))
    verified = client.get(f"/clinics/verify/{clinic_verification_token(clinic)}")
    [password_page] = [
        line.split('href="')[1].split('"')[0]
        for line in verified.get_data(as_text=True).splitlines()
        if "/portal/password/" in line
    ]

    set_it = submit(
        client, password_page, {"password": "a long new password", "confirm": "a long new password"}
    )
    assert set_it.status_code == 302
    sign_in(client, "apply@bukhansan-test.example.com", "a long new password")
    assert client.get("/portal/").status_code == 200

    again = client.get(password_page, query_string={"lang": "en"})  # Korean by default
    assert again.status_code == 410
    assert "already used" in again.get_data(as_text=True)


def test_mismatched_or_short_passwords_are_explained_and_nothing_changes(
    client: FlaskClient, routed: Routed
):
    user = db.session.scalar(select(ClinicUser).where(ClinicUser.clinic_id == routed.alpha.id))
    user.password_hash = None
    db.session.commit()
    [link] = [u for u in links_in("clinic_new_lead", routed.alpha.email) if "/password/" in u]

    response = submit(client, path_of(link), {"password": "short", "confirm": "other"})

    assert response.status_code == 422
    assert "at least 12 characters" in field_error(response.get_data(as_text=True), "password")
    assert "not the same" in field_error(response.get_data(as_text=True), "confirm")
    db.session.expire_all()
    assert db.session.get(ClinicUser, user.id).password_hash is None


def test_an_expired_password_link_is_refused_with_a_way_to_get_a_new_one(
    settings: dict[str, str],
):
    app = make_app(settings, PASSWORD_LINK_MAX_AGE_SECONDS="-1")
    with app.app_context():
        client = app.test_client()
        submit(client, "/portal/password", {"email": "nobody@example.com"})
        user = make_clinic_user(make_clinic("Alpha"))
        submit(client, "/portal/password", {"email": user.email})
        [link] = links_in("clinic_password")

        response = client.get(path_of(link))

        assert response.status_code == 410
        page = response.get_data(as_text=True)
        assert "expired" in page and "/portal/password" in page


def test_a_forgotten_password_link_goes_only_to_an_existing_account(
    client: FlaskClient, routed: Routed
):
    for email in (routed.alpha.email, "stranger@example.com"):
        page = submit(client, "/portal/password", {"email": email}).get_data(as_text=True)
        assert "If " in page and "has a portal account" in page
    assert [
        e.recipient
        for e in db.session.scalars(select(OutboundEmail))
        if e.template == "clinic_password"
    ] == [routed.alpha.email]


def test_wrong_passwords_get_one_message_and_sign_in_is_rate_limited(
    settings: dict[str, str],
):
    app = make_app(settings, LOGIN_RATE_LIMIT="3 per minute")
    with app.app_context():
        user = make_clinic_user(make_clinic("Alpha"))
        client = app.test_client()
        for _ in range(3):
            response = submit(client, "/portal/login", {"email": user.email, "password": "wrong"})
            assert response.status_code == 401
            assert "do not match an active account" in response.get_data(as_text=True)
        blocked = submit(
            client, "/portal/login", {"email": user.email, "password": CLINIC_PASSWORD}
        )
        assert blocked.status_code == 429
        failed = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "clinic_user.login_failed")
        ).all()
        assert len(failed) == 3


def test_a_staff_account_cannot_sign_in_to_the_portal_nor_a_clinic_user_to_the_console(
    client: FlaskClient, routed: Routed, staff_user: Any
):
    as_staff = submit(
        client, "/portal/login", {"email": staff_user.email, "password": STAFF_PASSWORD}
    )
    assert as_staff.status_code == 401
    as_clinic = submit(
        client, "/staff/login", {"email": routed.alpha.email, "password": CLINIC_PASSWORD}
    )
    assert as_clinic.status_code == 401


# --- access --------------------------------------------------------------------------------


def test_a_clinic_sees_only_the_leads_routed_to_it(client: FlaskClient, routed: Routed):
    sign_in(client, routed.alpha.email)
    assert routed.lead.reference in client.get("/portal/").get_data(as_text=True)

    other = sign_in(client.application.test_client(), routed.outsider.email)
    assert routed.lead.reference not in other.get("/portal/").get_data(as_text=True)


def test_another_clinic_cannot_read_answer_or_download_a_lead(client: FlaskClient, routed: Routed):
    sign_in(client, routed.outsider.email)
    lead_id = routed.lead.id

    assert client.get(f"/portal/leads/{lead_id}").status_code == 404
    assert (
        client.get(
            f"/portal/leads/{lead_id}/attachments/{routed.lead.attachments[0].id}"
        ).status_code
        == 404
    )
    token_page = "/portal/"
    assert (
        submit(client, token_page, {}, action=f"/portal/leads/{lead_id}/contacted").status_code
        == 404
    )
    assert (
        submit(
            client, token_page, quote_answers(), action=f"/portal/leads/{lead_id}/quote"
        ).status_code
        == 404
    )
    assert (
        submit(
            client, token_page, {"decline-reason": "No"}, action=f"/portal/leads/{lead_id}/decline"
        ).status_code
        == 404
    )
    assert client.get("/portal/leads/999999").status_code == 404

    db.session.expire_all()
    lead = db.session.get(Lead, lead_id)
    assert lead.status is LeadStatus.ROUTED
    assert all(a.response is None and a.viewed_at is None for a in lead.assignments)
    assert count(Quote) == 0
    assert not db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.actor_type == "clinic_user", AuditEvent.object_type == "lead"
        )
    ).all()


@pytest.mark.parametrize(
    "page",
    [
        "/staff/leads",
        "/staff/clinics",
        "/staff/dashboard",
        "/staff/leads.csv",
        "/staff/users",
        "/staff/privacy",
    ],
)
def test_a_clinic_user_reaches_no_staff_page(client: FlaskClient, routed: Routed, page: str):
    sign_in(client, routed.alpha.email)
    response = client.get(page)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/staff/login")
    detail = client.get(f"/staff/leads/{routed.lead.id}")
    assert detail.status_code == 302 and PATIENT not in detail.get_data(as_text=True)
    assert (
        client.get(
            f"/staff/leads/{routed.lead.id}/attachments/{routed.lead.attachments[0].id}"
        ).status_code
        == 302
    )


def test_the_portal_needs_a_clinic_sign_in(client: FlaskClient, routed: Routed):
    response = client.get(f"/portal/leads/{routed.lead.id}")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/portal/login")


def test_the_notification_link_opens_the_lead_after_sign_in(client: FlaskClient, routed: Routed):
    [link] = [u for u in links_in("clinic_new_lead", routed.alpha.email) if "/leads/" in u]

    to_login = client.get(path_of(link))
    assert to_login.status_code == 302
    login_page = to_login.headers["Location"]
    signed_in = submit(
        client, login_page, {"email": routed.alpha.email, "password": CLINIC_PASSWORD}
    )
    assert signed_in.status_code == 302
    page = client.get(signed_in.headers["Location"])
    assert page.status_code == 200
    assert PATIENT in page.get_data(as_text=True)


def test_reading_a_lead_records_the_first_view_and_audits_every_read(
    client: FlaskClient, routed: Routed
):
    sign_in(client, routed.alpha.email)
    page = client.get(f"/portal/leads/{routed.lead.id}").get_data(as_text=True)
    first_view = assignment_of(routed.lead, routed.alpha).viewed_at
    client.get(f"/portal/leads/{routed.lead.id}")
    download = client.get(
        f"/portal/leads/{routed.lead.id}/attachments/{routed.lead.attachments[0].id}"
    )

    assert PATIENT in page and "knee" in page
    assert first_view is not None
    assert assignment_of(routed.lead, routed.alpha).viewed_at == first_view
    assert assignment_of(routed.lead, routed.bravo).viewed_at is None
    assert download.status_code == 200 and download.data == PDF_BYTES
    assert download.headers["Content-Disposition"].startswith("attachment")
    actions = [
        e.action
        for e in db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.actor_type == "clinic_user", AuditEvent.object_type == "lead"
            )
        )
    ]
    assert actions == ["lead.viewed", "lead.viewed", "lead.attachment_downloaded"]


# --- answers -------------------------------------------------------------------------------


def test_the_first_answer_moves_the_lead_on_and_the_patient_hears_once(
    client: FlaskClient, routed: Routed
):
    sign_in(client, routed.alpha.email)
    page = f"/portal/leads/{routed.lead.id}"
    assert submit(client, page, {}, action=f"{page}/contacted").status_code == 302

    other = sign_in(client.application.test_client(), routed.bravo.email)
    assert submit(other, page, quote_answers(), action=f"{page}/quote").status_code == 302

    db.session.expire_all()
    assert db.session.get(Lead, routed.lead.id).status is LeadStatus.QUOTED
    told = db.session.scalars(
        select(OutboundEmail).where(OutboundEmail.template == "patient_clinic_answered")
    ).all()
    assert len(told) == 1 and told[0].recipient == routed.lead.email
    assert told[0].language == routed.lead.language
    assert "Alpha will contact you" in rendered(told[0]).subject
    answers = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "lead.clinic_answered")
    ).all()
    assert [(e.actor_type, e.changes["response"]) for e in answers] == [
        ("clinic_user", "contacted"),
        ("clinic_user", "quoted"),
    ]


def test_a_quote_with_mistakes_is_explained_next_to_each_field_and_nothing_is_stored(
    client: FlaskClient, routed: Routed
):
    sign_in(client, routed.alpha.email)
    page = f"/portal/leads/{routed.lead.id}"
    response = submit(
        client,
        page,
        quote_answers(
            **{"quote-price_max": "100", "quote-includes": "", "quote-valid_until": "2020-01-01"}
        ),
        action=f"{page}/quote",
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "cannot be below the lowest" in field_error(html, "quote-price_max")
    assert "what the price includes" in field_error(html, "quote-includes")
    assert "has passed" in field_error(html, "quote-valid_until")
    assert 'value="9000000"' in html  # the other answers are kept
    assert count(Quote) == 0
    assert assignment_of(routed.lead, routed.alpha).response is None


def test_a_quote_is_stored_in_its_parts_and_staff_see_it(
    client: FlaskClient, routed: Routed, staff_client: FlaskClient
):
    page = f"/portal/leads/{routed.lead.id}"
    clinic_client = sign_in(client.application.test_client(), routed.alpha.email)
    submit(clinic_client, page, quote_answers(), action=f"{page}/quote")

    quote = assignment_of(routed.lead, routed.alpha).quote
    assert (quote.price_min, quote.price_max, quote.currency, quote.stay_nights) == (
        9_000_000,
        12_000_000,
        "KRW",
        10,
    )
    staff_page = staff_client.get(f"/staff/leads/{routed.lead.id}").get_data(as_text=True)
    assert f"₩9,000,000{DASH}₩12,000,000" in staff_page  # the comparison, side by side
    assert "two injections" in staff_page


def test_declining_passes_the_lead_to_the_next_clinic_at_once(client: FlaskClient, routed: Routed):
    delta = make_clinic("Delta")
    sign_in(client, routed.alpha.email)
    page = f"/portal/leads/{routed.lead.id}"

    empty = submit(client, page, {"decline-reason": ""}, action=f"{page}/decline")
    assert empty.status_code == 422
    assert "short reason" in field_error(empty.get_data(as_text=True), "decline-reason")

    done = submit(
        client, page, {"decline-reason": "We do not treat grade 4."}, action=f"{page}/decline"
    )
    assert done.status_code == 302
    assert assignment_of(routed.lead, routed.alpha).response is ClinicResponse.DECLINED
    offered = assignment_of(routed.lead, delta)
    assert offered is not None and offered.awaiting_consent
    sent = db.session.scalars(select(OutboundEmail)).all()
    # Delta is named to the patient, and hears of the lead only once the patient agrees.
    assert [e.recipient for e in sent if e.template == "clinic_new_lead"].count(delta.email) == 0
    [ask] = [e for e in sent if e.template == "patient_consent_request"]
    assert ask.context["assignment_id"] == offered.id
    assert not db.session.scalars(
        select(OutboundEmail).where(OutboundEmail.template == "patient_clinic_answered")
    ).all()

    assert done.headers["Location"].endswith("/portal/")
    again = submit(client, "/portal/", {}, action=f"{page}/contacted")
    assert again.status_code == 404
    assert assignment_of(routed.lead, routed.alpha).response is ClinicResponse.DECLINED


def test_a_lead_that_moved_on_explains_itself_from_the_email_link_only(
    client: FlaskClient, routed: Routed
):
    [link] = [u for u in links_in("clinic_new_lead", routed.alpha.email) if "/leads/" in u]
    assignment = assignment_of(routed.lead, routed.alpha)
    assignment.expired_at = utcnow()
    db.session.commit()
    sign_in(client, routed.alpha.email)

    from_email = client.get(path_of(link))
    assert from_email.status_code == 410
    assert "went to another clinic" in from_email.get_data(as_text=True)
    assert PATIENT not in from_email.get_data(as_text=True)
    assert client.get(f"/portal/leads/{routed.lead.id}").status_code == 404
    listing = client.get("/portal/").get_data(as_text=True)
    assert "passed to another clinic" in listing
    assert f'href="/portal/leads/{routed.lead.id}"' not in listing


def test_the_new_lead_email_offers_a_password_link_until_one_is_set(app: Flask):
    alpha = make_clinic("Alpha")
    user = make_clinic_user(alpha, with_password=False)
    routed_lead()

    assert any("/portal/password/" in u for u in links_in("clinic_new_lead"))
    user.password_hash = "set"
    db.session.commit()
    assert not any("/portal/password/" in u for u in links_in("clinic_new_lead"))


def test_the_new_lead_email_states_the_deadline_the_clinic_is_held_to(app: Flask):
    make_clinic("Alpha")
    routed_lead()
    [notice] = db.session.scalars(
        select(OutboundEmail).where(OutboundEmail.template == "clinic_new_lead")
    )
    policy = DeadlinePolicy.from_config(app.config)

    before = utcnow()
    text = rendered(notice).text
    after = utcnow()

    found = re.search(r"Please answer by (\d{4}-\d\d-\d\d \d\d:\d\d), Seoul time", text)
    assert found, text
    seoul = policy.calendar.timezone
    stated = datetime.strptime(found[1], "%Y-%m-%d %H:%M").replace(tzinfo=seoul)
    assert stated in {
        policy.due_at(t).astimezone(seoul).replace(second=0, microsecond=0) for t in (before, after)
    }
    # 48 business hours of nine-hour days are more than five working days, not two.
    assert stated - before > timedelta(days=5)


# --- listing and colleagues ----------------------------------------------------------------


def offering_row(form: dict[str, Any], slug: str) -> str:
    """The prefix of the listing form's row for one catalogue procedure."""
    return next(
        name.removesuffix("-procedure")
        for name, value in form.items()
        if name.endswith("-procedure") and value == slug
    )


def test_a_listing_edit_is_audited_and_shows_on_the_public_page(
    client: FlaskClient, routed: Routed
):
    sign_in(client, routed.alpha.email)
    data = filled_in(client, "/portal/listing")
    row = offering_row(data, "prp-knee")
    data.update(
        {
            f"{row}-offered": "y",
            f"{row}-price_min_usd": "700",
            f"{row}-price_max_usd": "1200",
            "description": "Knee specialists since 2001 (fictional).",
            "weekly_capacity": "25",
            "languages": ["ko", "en", "ru"],
        }
    )

    response = submit(client, "/portal/listing", data)

    assert response.status_code == 302
    public = client.get(f"/clinics/{routed.alpha.slug}").get_data(as_text=True)
    assert f"$700{DASH}$1,200" in public and "Knee specialists since 2001" in public
    db.session.expire_all()
    clinic = db.session.get(Clinic, routed.alpha.id)
    assert clinic.weekly_capacity == 25 and sorted(clinic.language_codes) == ["en", "ko", "ru"]
    assert sorted(o.procedure.slug for o in clinic.offerings) == [
        "autologous-msc-injection",
        "prp-knee",
    ]
    [event] = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "clinic.listing_edited")
    )
    assert event.actor_type == "clinic_user"
    assert event.changes["weekly_capacity"] == [10, 25]


def test_a_listing_with_mistakes_is_explained_and_nothing_changes(
    client: FlaskClient, routed: Routed
):
    sign_in(client, routed.alpha.email)
    data = filled_in(client, "/portal/listing")
    row = offering_row(data, "autologous-msc-injection")
    data.update(
        {f"{row}-price_min_usd": "9000", f"{row}-price_max_usd": "100", "weekly_capacity": "0"}
    )

    response = submit(client, "/portal/listing", data)

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "cannot be below the lowest" in field_error(html, f"{row}-price_max_usd")
    assert "from 1 to 500" in field_error(html, "weekly_capacity")
    assert not db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "clinic.listing_edited")
    ).all()


def test_a_colleague_is_invited_signs_in_and_can_be_removed(client: FlaskClient, routed: Routed):
    sign_in(client, routed.alpha.email)
    assert (
        submit(client, "/portal/team", {"email": "Nurse.Lee@Alpha-Clinic.example.com"}).status_code
        == 302
    )
    taken = submit(client, "/portal/team", {"email": routed.bravo.email})
    assert taken.status_code == 422
    assert "already has a portal account" in field_error(taken.get_data(as_text=True), "email")

    [link] = links_in("clinic_password", "nurse.lee@alpha-clinic.example.com")
    colleague = client.application.test_client()
    submit(
        colleague,
        path_of(link),
        {"password": "nurse lee password", "confirm": "nurse lee password"},
    )
    sign_in(colleague, "nurse.lee@alpha-clinic.example.com", "nurse lee password")
    assert routed.lead.reference in colleague.get("/portal/").get_data(as_text=True)

    nurse = db.session.scalar(select(ClinicUser).where(ClinicUser.email.like("nurse%")))
    submit(client, "/portal/team", {}, action=f"/portal/team/{nurse.id}/remove")
    assert colleague.get("/portal/").status_code == 302
