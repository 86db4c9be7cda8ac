"""Locale selection: an explicit choice first, then the browser's Accept-Language.

The available locales are the catalogues found on disk, so adding a language is adding its
`translations/<code>/` folder, with no code change.
"""

from __future__ import annotations

from typing import cast

from flask import current_app, request, session
from flask_babel import get_babel

LANGUAGE_PARAM = "lang"


def available_locales() -> list[str]:
    """Scanned once per process: a new catalogue is picked up at the next restart."""
    cached = current_app.extensions.get("careroute.locales")
    if cached is None:
        locales = {str(locale) for locale in get_babel().instance.list_translations()}
        locales.add(current_app.config["BABEL_DEFAULT_LOCALE"])
        cached = current_app.extensions["careroute.locales"] = sorted(locales)
    return cast(list[str], cached)


def select_locale() -> str | None:
    available = available_locales()
    chosen = request.args.get(LANGUAGE_PARAM)
    if chosen in available:
        session[LANGUAGE_PARAM] = chosen
        return chosen
    remembered = session.get(LANGUAGE_PARAM)
    if remembered in available:
        return remembered
    return request.accept_languages.best_match(available)
