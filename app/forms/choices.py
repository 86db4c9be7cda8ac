"""Options several forms offer: languages named for the reader, in one place."""

from __future__ import annotations

from flask_babel import get_locale
from wtforms import SelectChoice

from app.i18n import CONSOLE_LOCALES, own_name
from app.reference_data import LANGUAGE_CODES


def language_choices() -> list[SelectChoice]:
    """Language names in the reader's own locale, from Babel's CLDR data."""
    locale = get_locale()
    names = locale.languages if locale else {}
    return [SelectChoice(code, names.get(code, code)) for code in LANGUAGE_CODES]


def console_language_choices() -> list[SelectChoice]:
    """The languages a clinic or a staff member can work in, each named in itself."""
    return [SelectChoice(code, own_name(code)) for code in CONSOLE_LOCALES]
