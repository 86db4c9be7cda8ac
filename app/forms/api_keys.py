"""Making an API key on the keys pages of the console and the portal."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice, StringField
from wtforms.validators import DataRequired, Length

from app.forms.base import AppForm
from app.forms.fields import CheckboxListField
from app.forms.validators import AtLeastOne
from app.services.integrations.keys import INQUIRIES_WRITE, LEADS_READ, LEADS_WRITE


class KeyForm(AppForm):
    """A clinic's or a partner's key: what it may do follows from whose it is."""

    name = StringField(
        _l("Name of the key"),
        validators=[
            DataRequired(_l("Please name the key after the system that will use it.")),
            Length(max=200, message=_l("Please keep the name under 200 characters.")),
        ],
    )


class StaffKeyForm(KeyForm):
    """A staff member's own key: it acts as them, within the scopes they choose."""

    scopes = CheckboxListField(
        _l("What the key may do"),
        choices=[
            SelectChoice(LEADS_READ, _l("Read leads, with what the patients sent")),
            SelectChoice(LEADS_WRITE, _l("Change a lead's status and assignee")),
            SelectChoice(INQUIRIES_WRITE, _l("Send inquiries")),
        ],
        validators=[AtLeastOne(_l("Please choose at least one."))],
        default=[LEADS_READ],
    )
