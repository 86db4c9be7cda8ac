"""Subscribing a URL to events on the webhooks pages of the console and the portal."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import Field, Form, SelectChoice, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from app.forms.base import AppForm
from app.forms.fields import CheckboxListField
from app.forms.validators import AtLeastOne
from app.services.integrations import webhooks

# What each event means to the person choosing it; an event without words here fails at
# import, so a new event cannot reach the pages unexplained.
_MEANINGS = {
    "lead.created": _l("A patient sent an inquiry through a partner's site (partners only)"),
    "lead.routed": _l("An inquiry was passed on to the clinics that fit it"),
    "assignment.answered": _l("A clinic answered an inquiry"),
    "lead.status_changed": _l("An inquiry moved to another status, such as booked (partners only)"),
    "message.created": _l("A patient wrote to a clinic (clinics only)"),
}


def _reachable(form: Form, field: Field) -> None:
    """Development may point webhooks at this computer (WEBHOOK_ALLOW_PRIVATE)."""
    if current_app.config["WEBHOOK_ALLOW_PRIVATE"]:
        return
    if webhooks.names_private_host(field.data or ""):
        raise ValidationError(
            _l(
                "This address is inside a private network or on this computer, where "
                "CareRoute cannot send. Please give an address reachable from the internet."
            )
        )


class WebhookForm(AppForm):
    url = StringField(
        _l("Address that receives the events"),
        validators=[
            DataRequired(_l("Please enter the address, like https://crm.example/careroute.")),
            Length(max=2000, message=_l("Please keep the address under 2,000 characters.")),
            _reachable,
        ],
    )
    events = CheckboxListField(
        _l("Events to send"),
        choices=[
            SelectChoice(event, _l("%(event)s: %(meaning)s", event=event, meaning=_MEANINGS[event]))
            for event in webhooks.EVENTS
        ],
        validators=[AtLeastOne(_l("Please choose at least one event."))],
    )
