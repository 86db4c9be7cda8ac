"""Choice fields whose refusals read as plain requests, not WTForms' technical wording."""

from __future__ import annotations

from typing import Any

from wtforms import Form, SelectField, SelectMultipleField, widgets
from wtforms.validators import ValidationError


class ListChoiceField(SelectField):
    """A select that names what to do when the posted value is not one of its options."""

    def __init__(self, *args: Any, invalid: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.invalid = invalid

    def pre_validate(self, form: Form) -> None:
        try:
            super().pre_validate(form)
        except ValidationError as exc:
            raise ValidationError(self.invalid) from exc


class CheckboxListField(SelectMultipleField):
    """A multiple choice shown as a list of checkboxes, each with its own label."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()
