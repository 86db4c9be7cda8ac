"""Choice fields whose refusals read as plain requests, not WTForms' technical wording."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from wtforms import Form, SelectField, SelectMultipleField, widgets
from wtforms.validators import ValidationError


class ListChoiceField(SelectField):
    """A select that names what to do when the posted value is not one of its options."""

    def __init__(self, *args: Any, invalid: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.invalid = invalid
        # The accepted values as a set, when the form has one made once (the countries);
        # otherwise it is made from the choices on each validation.
        self.values: Collection[Any] | None = None

    def pre_validate(self, form: Form) -> None:
        """A set lookup: WTForms builds an option object per choice to compare, which for
        every country in the list cost more than the rest of the inquiry's validation."""
        if self.choices is None:
            raise TypeError(f"{self.name}: choices are not set")
        if not self.validate_choice:
            return
        values = self.values
        if values is None:
            values = {self.coerce(choice.value) for choice in self.choices}
        if self.data not in values:
            raise ValidationError(self.invalid)


class CheckboxListField(SelectMultipleField):
    """A multiple choice shown as a list of checkboxes, each with its own label."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()
