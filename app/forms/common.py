"""Forms shared by several audiences."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from app.forms.base import AppForm


class ConfirmForm(AppForm):
    """A button that changes something: only the CSRF token, no other input."""


class LoginForm(AppForm):
    # No format check here: a sign-in only has to match an account.
    email = StringField(
        _l("Email"), validators=[DataRequired(_l("Please enter your email.")), Length(max=254)]
    )
    password = PasswordField(
        _l("Password"), validators=[DataRequired(_l("Please enter your password."))]
    )
    remember = BooleanField(_l("Keep me signed in on this device"))
