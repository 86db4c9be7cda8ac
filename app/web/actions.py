"""The buttons of the console and the portal: one POST that changes one thing and goes back.

Every such button behaves alike, so a person learns it once: a missing or stale form token
is a 400, an id that is not theirs to act on a 404, a refusal is rolled back and said in
red, and success is said in plain words.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import abort, flash, redirect
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import Field

from app.extensions import db
from app.forms.common import ConfirmForm

Refusals = Mapping[type[Exception], Callable[[Any], str]]


def run_confirmed(do: Callable[[], Any], done: Callable[[Any], str], refusals: Refusals) -> None:
    """`done` words the result; `refusals` words each exception the service may refuse with."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    run(do, done, refusals)


def run(do: Callable[[], Any], done: Callable[[Any], str], refusals: Refusals) -> None:
    """As `run_confirmed`, for a form the view has validated itself."""
    try:
        result = do()
    except LookupError:
        abort(404)
    except tuple(refusals) as refusal:
        db.session.rollback()
        word = next(w for kind, w in refusals.items() if isinstance(refusal, kind))
        flash(word(refusal), "error")
    else:
        flash(done(result))


def explained(*kinds: type[Exception]) -> Refusals:
    """Refusals whose own message says why, in the words of the service that refused."""
    return {kind: lambda exc: _("That could not be done: %(why)s.", why=str(exc)) for kind in kinds}


def run_form(
    form: FlaskForm,
    field: Field,
    do: Callable[[], Any],
    refused: type[Exception],
    done: str,
    back: str,
    page: Callable[[FlaskForm], ResponseReturnValue],
) -> ResponseReturnValue:
    """A form that changes one thing. Answers the form refuses, or the service refuses
    (said next to `field`), come back on the page (`page(form)`, a 422) with everything the
    person wrote kept; an id that is not theirs is a 404; success says `done` at `back`."""
    if form.validate_on_submit():
        try:
            do()
        except LookupError:
            abort(404)
        except refused as exc:
            field.errors = [str(exc)]
        else:
            flash(done)
            return redirect(back)
    return page(form)
