"""Staff console forms."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from app.forms.base import AppForm
from app.forms.choices import language_choices
from app.forms.fields import CheckboxListField
from app.models import Procedure, StaffUser
from app.models.base import utcnow
from app.reference_data import CREDENTIAL_LABELS
from app.services.conversations.threads import MAX_LENGTH
from app.services.leads.dashboard import MAX_DAYS, Period


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
        self.code.choices = [
            SelectChoice(code, str(label)) for code, label in CREDENTIAL_LABELS.items()
        ]


class NewStaffForm(AppForm):
    email = StringField(
        _l("Email"), validators=[DataRequired(_l("Please enter an email.")), Length(max=254)]
    )
    role = SelectField(
        _l("Role"),
        choices=[SelectChoice("triager", _l("Triager")), SelectChoice("admin", _l("Admin"))],
    )
    password = PasswordField(
        _l("Password (at least 12 characters)"),
        validators=[Length(min=12, message=_l("Please use at least 12 characters."))],
    )


class PasswordResetForm(AppForm):
    password = PasswordField(
        _l("New password (at least 12 characters)"),
        validators=[Length(min=12, message=_l("Please use at least 12 characters."))],
    )


class AssignmentRuleForm(AppForm):
    """Which new leads a rule takes, and who gets them."""

    language = SelectField(_l("Patient's language"))
    procedure = SelectField(_l("Procedure"))
    handling = RadioField(
        _l("What happens to a matching lead"),
        choices=[
            SelectChoice("round_robin", _l("Give it in turn to a staff member on duty")),
            SelectChoice("leave", _l("Leave it unassigned for staff to pick")),
        ],
        default="round_robin",
    )
    staff = CheckboxListField(_l("Staff members taking turns"), coerce=int)

    def __init__(
        self,
        procedures: Sequence[Procedure],
        staff_users: Sequence[StaffUser],
        *args: object,
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.language.choices = [
            SelectChoice("", _l("Any language")),
            *language_choices(),
        ]
        self.procedure.choices = [
            SelectChoice("", _l("Any procedure")),
            *(SelectChoice(str(p.id), p.name) for p in procedures),
        ]
        self.staff.choices = [SelectChoice(u.id, u.email) for u in staff_users]

    def validate_staff(self, field: CheckboxListField) -> None:
        if self.handling.data == "round_robin" and not field.data:
            raise ValidationError(
                _l("Choose at least one staff member, or leave the leads to pick.")
            )


class DashboardRangeForm(AppForm):
    """The dashboard's days, from the query string: a GET form, so no CSRF token (it
    changes nothing) and a link to a range can be shared."""

    class Meta(AppForm.Meta):
        csrf = False

    first = DateField(_l("First day"), name="from", validators=[Optional()])
    last = DateField(_l("Last day"), name="to", validators=[Optional()])

    def period(self, today: date) -> Period:
        """The days chosen, or the last 30 up to the day chosen (today by default)."""
        last = self.last.data or today
        return Period(self.first.data, last) if self.first.data else Period.ending(last)

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        """The range is checked as it will be shown: an empty last day is today, and the
        refusal goes next to the day the person typed last."""
        if not super().validate(extra_validators):
            return False
        if self.first.data is None:
            return True
        last = self.last.data or utcnow().date()
        field = self.last if self.last.data else self.first
        if last < self.first.data:
            field.errors.append(_l("Please choose a first day on or before the last day."))
        elif (last - self.first.data).days >= MAX_DAYS:
            field.errors.append(_l("Please choose at most %(days)d days.", days=MAX_DAYS))
        return not field.errors


class StaffMessageForm(AppForm):
    """Staff writing to the patient; the one-time id makes a double submit one message."""

    body = TextAreaField(
        _l("Message to the patient (in their language)"),
        validators=[
            DataRequired(_l("Please write your message.")),
            Length(max=MAX_LENGTH, message=_l("At most %(max)d characters.")),
        ],
    )
    submission_id = HiddenField(validators=[DataRequired(), Length(max=64)])

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_submitted():
            self.submission_id.data = secrets.token_urlsafe(16)


class SavedViewForm(AppForm):
    """Save the list as it is (its query string) under a name, for oneself or the team."""

    name = StringField(
        _l("Name of this view"),
        validators=[DataRequired(_l("Please give the view a name.")), Length(max=60)],
    )
    shared = BooleanField(_l("Share with the team"))
    query = HiddenField()
