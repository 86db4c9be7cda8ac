"""The patient's form for a fresh link to the copy of their data."""

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import DataRequired

from app.forms.base import AppForm
from app.forms.validators import EmailAddress


class DataCopyLinkForm(AppForm):
    email = StringField(
        _l("The email address you wrote to us from"),
        validators=[DataRequired(_l("Please enter your email address.")), EmailAddress()],
    )
