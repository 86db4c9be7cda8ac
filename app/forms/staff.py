"""Staff console forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from app.forms.base import AppForm
from app.reference_data import CREDENTIAL_LABELS


class ReasonForm(AppForm):
    """Rejecting or suspending a clinic needs a reason the clinic will read."""

    reason = TextAreaField(
        _l("Reason (sent to the clinic)"),
        validators=[DataRequired(_l("Please give a reason.")), Length(max=2000)],
    )


class CredentialForm(AppForm):
    code = SelectField(_l("Credential"))
    reference = StringField(_l("Number or reference"), validators=[Optional(), Length(max=100)])
    expires_on = DateField(_l("Expires on"), validators=[Optional()])

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.code.choices = [(code, str(label)) for code, label in CREDENTIAL_LABELS.items()]


class NewStaffForm(AppForm):
    email = StringField(
        _l("Email"), validators=[DataRequired(_l("Please enter an email.")), Length(max=254)]
    )
    role = SelectField(_l("Role"), choices=[("triager", _l("Triager")), ("admin", _l("Admin"))])
    password = PasswordField(
        _l("Password (at least 12 characters)"),
        validators=[Length(min=12, message=_l("Please use at least 12 characters."))],
    )


class PasswordResetForm(AppForm):
    password = PasswordField(
        _l("New password (at least 12 characters)"),
        validators=[Length(min=12, message=_l("Please use at least 12 characters."))],
    )


class SavedViewForm(AppForm):
    """Save the list as it is (its query string) under a name, for oneself or the team."""

    name = StringField(
        _l("Name of this view"),
        validators=[DataRequired(_l("Please give the view a name.")), Length(max=60)],
    )
    shared = BooleanField(_l("Share with the team"))
    query = HiddenField()
