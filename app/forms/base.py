"""The base of every form: Flask-WTF's CSRF protection with WTForms' own messages translated.

Flask-WTF reads WTForms' message catalogue from disk on every request that builds a form
(a twentieth of an inquiry POST); the catalogue only changes with a deploy, so it is kept
per locale for the life of the process.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from babel import support
from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms.i18n import messages_path


@cache
def _wtforms_messages(locale: str) -> support.NullTranslations:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class AppForm(FlaskForm):
    class Meta(FlaskForm.Meta):
        def get_translations(self, form: Any) -> support.NullTranslations:
            return _wtforms_messages(str(get_locale()))
