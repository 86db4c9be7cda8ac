"""Forms shared by several audiences."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, Length


class ConfirmForm(FlaskForm):
    """A button that changes something: only the CSRF token, no other input."""


class LoginForm(FlaskForm):
    # No format check here: a sign-in only has to match an account.
    email = StringField(
        _l("Email"), validators=[DataRequired(_l("Please enter your email.")), Length(max=254)]
    )
    password = PasswordField(
        _l("Password"), validators=[DataRequired(_l("Please enter your password."))]
    )
    remember = BooleanField(_l("Keep me signed in on this device"))
