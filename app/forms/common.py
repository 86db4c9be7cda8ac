"""Forms shared by several audiences."""

from flask_wtf import FlaskForm


class ConfirmForm(FlaskForm):
    """A button that changes something: only the CSRF token, no other input."""
