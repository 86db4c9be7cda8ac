"""A message in a thread between a patient and a clinic, written on either side."""

from flask_babel import lazy_gettext as _l
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from app.forms.base import AppForm
from app.services.conversations.threads import MAX_LENGTH


class MessageForm(AppForm):
    body = TextAreaField(
        _l("Your message"),
        validators=[
            DataRequired(_l("Please write your message.")),
            Length(
                max=MAX_LENGTH,
                message=_l(
                    "Please keep a message to %(most)d characters or fewer.", most=MAX_LENGTH
                ),
            ),
        ],
    )
