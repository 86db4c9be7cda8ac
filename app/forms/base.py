"""The base of every form: Flask-WTF's CSRF protection with WTForms' own messages translated.

Flask-WTF reads WTForms' message catalogue from disk on every request that builds a form
(a twentieth of an inquiry POST); the catalogue only changes with a deploy, so it is kept
per locale for the life of the process.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Self

from babel import support
from flask_babel import get_locale
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms.i18n import messages_path


@cache
def _wtforms_messages(locale: str) -> support.NullTranslations:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class AppForm(FlaskForm):
    class Meta(FlaskForm.Meta):
        def get_translations(self, form: Any) -> support.NullTranslations:
            return _wtforms_messages(str(get_locale()))


class FromJson(AppForm):
    """Mixed into a page's form (first, so its Meta wins) to check a JSON body sent with an
    API key by the page's own rules. No CSRF token: a key is not ambient, as a cookie is."""

    class Meta(AppForm.Meta):
        csrf = False

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Self:
        return cls(formdata=json_formdata(body))


def json_formdata(body: dict[str, Any], prefix: str = "") -> MultiDict[str, str]:
    """The JSON body as a browser would post the form: a ticked box is present, an
    unticked one absent, every other value text, and a nested object the fields of the
    sub-form of that name (`{"items": {"mri": {"cover": ...}}}` is `items-mri-cover`)."""
    posted: MultiDict[str, str] = MultiDict()
    for name, value in body.items():
        if isinstance(value, dict):
            posted.update(json_formdata(value, f"{prefix}{name}-"))
        elif value is not None and value is not False:
            posted[prefix + name] = "y" if value is True else str(value)
    return posted
