"""Which language a page or an email is in.

Patients are served in every language with a catalogue (`app/translations/<locale>/`);
clinics and staff work in Korean or English. A page is in the visitor's explicit choice
(`?lang=`, remembered), else a signed-in clinic user's setting, else the browser's
Accept-Language, among the languages of the page's audience. Catalogues come in two gettext
domains: `messages`, everything a patient or a visitor reads, in every patient language;
`console`, the portal, the staff console and clinic emails, in Korean and English.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from babel import Locale
from babel.numbers import format_currency
from flask import current_app, g, has_request_context, request, session, url_for
from flask_babel import get_babel, get_locale

LANGUAGE_PARAM = "lang"
CONSOLE_LOCALES = ("en", "ko")
# Pages for clinics and staff: the portal, the console, and a clinic's join pages.
CONSOLE_BLUEPRINTS = frozenset({"staff", "portal"})
CONSOLE_ENDPOINTS = frozenset({"clinics.join", "clinics.applied", "clinics.verify_email"})
# Regions that write Chinese in traditional characters.
_TRADITIONAL_REGIONS = frozenset({"TW", "HK", "MO"})


def patient_locales() -> tuple[str, ...]:
    """Babel identifiers (`zh_Hant`), English first; scanned once per process, so a new
    catalogue is offered from the next restart."""
    cached = current_app.extensions.get("careroute.locales")
    if cached is None:
        found = {str(locale) for locale in get_babel().instance.list_translations()}
        cached = ("en", *sorted(found - {"en"}))
        current_app.extensions["careroute.locales"] = cached
    return tuple(cached)


def locale_for_tag(tag: str | None) -> str | None:
    """The catalogue a BCP 47 tag (`zh-TW`, `ja-JP`, `zh-Hant`, `ar`) asks for, or None."""
    if not tag:
        return None
    parts = tag.replace("_", "-").split("-")
    primary = parts[0].lower()
    if primary == "zh":
        rest = {part.upper() for part in parts[1:]}
        traditional = "HANT" in rest or bool(rest & _TRADITIONAL_REGIONS)
        wanted = "zh_Hant" if traditional and "HANS" not in rest else "zh_Hans"
    else:
        wanted = primary
    return wanted if wanted in patient_locales() else None


def tag_of(locale: object) -> str:
    """`zh_Hant` as the web writes it: `zh-Hant` (for `<html lang>` and hreflang)."""
    return str(locale).replace("_", "-")


def patient_locale(language: str, country: str) -> str:
    """The locale of a patient's emails: the language they chose on the form (its script
    from their country for Chinese), English when CareRoute has no catalogue for it."""
    return locale_for_tag(f"{language}-{country}") or "en"


def audience_locales() -> tuple[str, ...]:
    blueprint = (request.blueprint or "").split(".")[0]
    if blueprint in CONSOLE_BLUEPRINTS or request.endpoint in CONSOLE_ENDPOINTS:
        return tuple(code for code in CONSOLE_LOCALES if code in patient_locales())
    return patient_locales()


def select_locale() -> str | None:
    if not has_request_context():  # a script or a task: the default, unless it forces one
        return None
    available = audience_locales()
    chosen = locale_for_tag(request.args.get(LANGUAGE_PARAM))
    if chosen in available:
        session[LANGUAGE_PARAM] = chosen
        return chosen
    remembered = session.get(LANGUAGE_PARAM)
    if remembered in available:
        return str(remembered)
    account = g.get("account_locale")
    if account in available:
        return str(account)
    for tag, _quality in request.accept_languages:
        wanted = locale_for_tag(tag)
        if wanted in available:
            return wanted
    return "en"


def money(amount: int, currency: str) -> str:
    """A whole amount as the reader's locale writes money: $15,000 in English, 15 000 $ in
    Russian."""
    locale = get_locale() or Locale.parse("en")
    pattern = str(locale.currency_formats["standard"].pattern).replace(".00", "")
    return format_currency(amount, currency, format=pattern, locale=locale, currency_digits=False)


@cache
def own_name(locale: str) -> str:
    """A language named in itself (日本語, Русский): how a reader finds their own."""
    name = Locale.parse(locale).get_display_name(locale) or locale
    return name[:1].upper() + name[1:]


@cache
def is_right_to_left(locale: str) -> bool:
    return Locale.parse(locale).character_order == "right-to-left"


def page_language() -> dict[str, object]:
    """What every template needs to say which language it is in and to offer the others."""
    current = str(get_locale() or "en")
    offered = audience_locales() if has_request_context() else patient_locales()
    return {
        "page_lang": tag_of(current),
        "page_dir": "rtl" if is_right_to_left(current) else "ltr",
        "page_languages": [(tag_of(code), own_name(code)) for code in offered],
        "language_url": _this_page_in,
    }


def _this_page_in(tag: str) -> str:
    """This page in another language, its other query arguments kept (a partner's frame
    needs its `partner` to survive the switch)."""
    arguments: dict[str, Any] = {
        **(request.view_args or {}),
        **{k: v for k, v in request.args.items() if k != LANGUAGE_PARAM},
        LANGUAGE_PARAM: tag,
    }
    return url_for(request.endpoint or "public.index", **arguments)
