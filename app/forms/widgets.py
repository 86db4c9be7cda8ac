"""A multiple choice shown as a list of checkboxes, each with its own label."""

from wtforms import SelectMultipleField, widgets


class CheckboxListField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()
