"""The patient's form for fresh links by email: to their inquiries' pages, or to the copy of
their data."""

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import DataRequired

from app.forms.base import AppForm
from app.forms.validators import EmailAddress


class EmailLinkForm(AppForm):
    email = StringField(
        _l("The email address you wrote to us from"),
        validators=[DataRequired(_l("Please enter your email address.")), EmailAddress()],
    )
