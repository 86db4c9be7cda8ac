"""Patients and clinics served in their own language: complete catalogues, pages and emails
with no English left in them, the right language for each reader, formats of their locale."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from babel.messages.checkers import num_plurals, python_format
from babel.messages.pofile import read_po
from babel.util import pathmatch
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.models import LeadMessage, MessageSender, OutboundEmail, PrivacyRequestKind
from app.services.mail.messages import _BUILDERS, is_for_patient, render
from app.services.privacy.data_copy_links import data_copy_token
from app.services.privacy.patient_links import privacy_token, status_token, withdrawal_token
from tests.support.clock import NOW
from tests.support.email_world import CONTEXTS, build_world
from tests.support.factories import (
    add_quote,
    attach_pdf,
    make_clinic,
    make_clinic_user,
    make_privacy_request,
    routed_lead,
)
from tests.support.portal import sign_in

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = ROOT / "app" / "translations"
PATIENT_LOCALES = ("ko", "ja", "zh_Hans", "zh_Hant", "th", "mn", "vi", "ru", "ar")
CONSOLE_LOCALES = ("ko",)
REQUIRED = [("messages", locale) for locale in PATIENT_LOCALES] + [
    ("console", locale) for locale in CONSOLE_LOCALES
]


def catalogue(domain: str, locale: str):  # type: ignore[no-untyped-def]
    with (CATALOGUES / locale / "LC_MESSAGES" / f"{domain}.po").open("rb") as po:
        return read_po(po, locale=locale)


@pytest.mark.parametrize(("domain", "locale"), REQUIRED, ids=lambda v: v)
def test_every_message_is_translated_and_keeps_its_placeholders(domain: str, locale: str):
    po = catalogue(domain, locale)
    missing = [
        m.id
        for m in po
        if m.id and (not m.string or m.fuzzy or (isinstance(m.string, tuple) and not all(m.string)))
    ]
    assert missing == [], f"{locale} {domain}: {len(missing)} untranslated or fuzzy"
    problems = []
    for message in po:
        if not message.id:
            continue
        for check in (num_plurals, python_format):
            try:
                check(po, message)
            except Exception as error:  # Babel raises TranslationError
                problems.append(f"{message.id!r}: {error}")
    assert problems == []


def _patterns(domain: str) -> list[str]:
    text = (CATALOGUES / f"{domain}.cfg").read_text()
    return re.findall(r"^\[\w+: (.+)\]$", text, flags=re.M)


def test_every_file_with_text_belongs_to_exactly_one_domain():
    domains = {domain: _patterns(domain) for domain in ("messages", "console")}
    translatable = re.compile(r"""(?<![\w.])(_|_l|gettext|ngettext|lazy_gettext)\(\s*["']""")
    files = [*ROOT.glob("app/**/*.py"), *ROOT.glob("templates/**/*.html")]
    files += ROOT.glob("templates/**/*.txt")
    wrong = {}
    for path in files:
        if not translatable.search(path.read_text()):
            continue
        relative = path.relative_to(ROOT).as_posix()
        owners = [
            domain
            for domain, patterns in domains.items()
            if any(pathmatch(pattern, relative) for pattern in patterns)
        ]
        if len(owners) != 1:
            wrong[relative] = owners
    assert wrong == {}


# English left on a page: a source sentence (a run of at least three words between
# placeholders) that its translation does not repeat on purpose.
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%%")


def english_runs(domain: str, locale: str) -> list[str]:
    runs = []
    for message in catalogue(domain, locale):
        if not message.id:
            continue
        sources = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        translated = " ".join(strings)
        for source in sources:
            for run in PLACEHOLDER.split(source):
                run = run.strip(" .,:;()\u2014\u2013-")
                if len(run.split()) >= 3 and run not in translated:
                    runs.append(run)
    return runs


def visible_text(page: str) -> str:
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def english_in(text: str, domain: str, locale: str) -> list[str]:
    squeezed = " ".join(text.split())
    return [run for run in english_runs(domain, locale) if " ".join(run.split()) in squeezed]


@pytest.fixture
def listed(app: Flask):  # type: ignore[no-untyped-def]
    clinic = make_clinic("Hanok Knee Test Clinic", languages=("ko", "ja", "ru", "ar"))
    lead = routed_lead(email="tomoko.test@example.com", language="ja", country="JP")
    return clinic, lead


def public_pages(clinic, lead) -> list[str]:  # type: ignore[no-untyped-def]
    request = make_privacy_request(PrivacyRequestKind.EXPORT, lead.email, lead, handled_at=NOW)
    return [
        "/",
        "/inquire",
        "/clinics",
        f"/clinics/{clinic.slug}",
        f"/clinics/{clinic.slug}/inquire",
        "/inquire/thanks",
        f"/inquire/withdraw/{withdrawal_token(lead)}",
        f"/inquire/privacy/{privacy_token(lead)}",
        f"/inquire/my-data/{data_copy_token(request)}",
        f"/inquire/status/{status_token(lead)}",
        "/inquire/status",
        "/inquire/status/not-a-token",
        "/inquire/my-data",
        "/inquire/withdraw/not-a-token",
        "/no-such-page",
    ]


@pytest.mark.parametrize("locale", PATIENT_LOCALES)
def test_every_public_page_is_in_the_patients_language(client: FlaskClient, listed, locale: str):  # type: ignore[no-untyped-def]
    tag = locale.replace("_", "-")
    for path in public_pages(*listed):
        page = client.get(path, query_string={"lang": tag})
        assert page.status_code == (404 if "no-such" in path else 400 if "not-a" in path else 200)
        assert f'lang="{tag}"' in page.text, path
        left = english_in(visible_text(page.text), "messages", locale)
        assert left == [], f"{path} in {locale}: {left}"
    # The form's own error messages, next to its fields.
    refused = client.post("/inquire", data={"email": "not an address"})
    left = english_in(visible_text(refused.text), "messages", locale)
    assert refused.status_code in (400, 422) and left == [], left


@pytest.mark.parametrize("locale", PATIENT_LOCALES)
def test_the_patients_page_with_everything_on_it_is_in_their_language(
    app: Flask, client: FlaskClient, locale: str
):
    """A quote part by part, the trip estimate, a thread, a document, a clinic waiting for
    the patient's agreement, and a booking with its visa letter to ask for."""
    world = build_world()
    booked, offered = world.assignment, world.offered
    add_quote(
        booked,
        currency="KRW",
        items={
            "consultation": {"cover": "included"},
            "follow_up": {"cover": "separate", "price": 300},
        },
    )
    db.session.add(
        LeadMessage(
            lead_id=world.lead.id, assignment=booked, sender=MessageSender.CLINIC, body="Hello"
        )
    )
    attach_pdf(world.lead, app.config["UPLOAD_DIR"])
    booked.responded_at = booked.shared_at = NOW
    db.session.commit()
    page = f"/inquire/status/{status_token(world.lead)}"
    tag = locale.replace("_", "-")
    before = client.get(page, query_string={"lang": tag}).text
    booked.chosen_at = booked.confirmed_at = NOW
    world.lead.needs_visa_letter = True
    db.session.commit()
    after = client.get(page, query_string={"lang": tag}).text

    assert offered.clinic.name in before and "Hello" in before
    for text in (before, after):
        left = english_in(visible_text(text), "messages", locale)
        assert left == [], f"{locale}: {left}"


def _emails(template: str) -> list[OutboundEmail]:
    query = select(OutboundEmail).where(OutboundEmail.template == template)
    return list(db.session.scalars(query.order_by(OutboundEmail.id)))


@pytest.mark.parametrize("locale", PATIENT_LOCALES)
def test_every_patient_email_is_in_the_patients_language(app: Flask, locale: str):
    world = build_world()
    patient_emails = [name for name in _BUILDERS if is_for_patient(name)]
    assert set(patient_emails) <= set(CONTEXTS)
    for template in patient_emails:
        email = render(db.session, template, CONTEXTS[template](world), locale)
        for part in (email.subject, email.text, visible_text(email.html)):
            left = english_in(part, "messages", locale)
            assert left == [], f"{template} in {locale}: {left}"


def test_every_clinic_and_staff_email_is_in_korean(app: Flask):
    world = build_world()
    console_emails = [name for name in _BUILDERS if not is_for_patient(name)]
    assert set(console_emails) <= set(CONTEXTS)
    for template in console_emails:
        email = render(db.session, template, CONTEXTS[template](world), "ko")
        for part in (email.subject, email.text, visible_text(email.html)):
            left = english_in(part, "console", "ko") + english_in(part, "messages", "ko")
            assert left == [], f"{template}: {left}"


def test_a_korean_clinic_is_notified_in_korean_and_a_japanese_patient_confirmed_in_japanese(
    app: Flask,
):
    make_clinic("Hanok Knee Test Clinic", languages=("ko", "ja"), language="ko")
    lead = routed_lead(
        email="tomoko.test@example.com", language="ja", country="JP", budget_usd=15000
    )
    [notice] = _emails("clinic_new_lead")
    [confirmation] = _emails("patient_confirmation")
    assert (notice.language, confirmation.language) == ("ko", "ja")

    korean = render(db.session, notice.template, notice.context, notice.language)
    assert "문의" in korean.subject and lead.reference in korean.subject
    japanese = render(db.session, confirmation.template, confirmation.context, "ja")
    assert lead.reference in japanese.subject
    assert "2026年11月25日" in japanese.text  # the date received, as Japanese write it
    assert "$15,000" in japanese.text and "15000" not in japanese.text
    assert "ご" in japanese.text or "お" in japanese.text


def test_arabic_pages_run_right_to_left_and_name_every_language_in_itself(client: FlaskClient):
    page = client.get("/", query_string={"lang": "ar"}).text
    assert '<html lang="ar" dir="rtl">' in page
    for tag, name in (("ja", "日本語"), ("zh-Hant", "中文"), ("ru", "Русский"), ("th", "ไทย")):
        assert f'hreflang="{tag}"' in page and name in page


def test_the_browsers_language_is_the_default_and_a_choice_is_remembered(client: FlaskClient):
    taiwan = {"Accept-Language": "zh-TW,zh;q=0.9,en;q=0.5"}
    assert 'lang="zh-Hant"' in client.get("/", headers=taiwan).text
    assert 'lang="vi"' in client.get("/?lang=vi", headers=taiwan).text
    assert 'lang="vi"' in client.get("/clinics", headers=taiwan).text


def test_clinic_pages_are_offered_in_korean_and_english_only(client: FlaskClient):
    page = client.get("/clinics/join", query_string={"lang": "ja"}).text
    assert 'lang="en"' in page and 'hreflang="ja"' not in page and 'hreflang="ko"' in page
    assert 'lang="ko"' in client.get("/clinics/join?lang=ko").text


def test_a_clinic_chooses_its_language_and_each_user_may_choose_their_own(
    client: FlaskClient, app: Flask
):
    clinic = make_clinic("Hanok Knee Test Clinic", language="ko")
    colleague = make_clinic_user(clinic, "colleague@clinic.example.com")
    make_clinic_user(clinic)
    sign_in(client, colleague.email)
    assert '<html lang="ko"' in client.get("/portal/").text  # the clinic's, Korean by default

    page = client.get("/portal/team").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/portal/team/language", data={"csrf_token": token, "language": "en"})
    assert '<html lang="en"' in client.get("/portal/").text
    db.session.expire_all()
    assert clinic.language == "ko"  # the clinic's emails stay Korean

    clinic.language = "en"
    db.session.commit()
    routed_lead()
    [notice] = _emails("clinic_new_lead")
    assert notice.language == "en"
