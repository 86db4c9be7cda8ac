"""The keys pages of the console and the portal (a staff member's own keys, a partner's, a
clinic's) behave alike, so a person learns them once: a new key is shown on the page that
made it, this once, and never again; then only its prefix, name, scopes and times; revoking
is a confirmed button."""

from __future__ import annotations

from typing import Any

from flask import Response, make_response, redirect, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from app.extensions import db
from app.forms.common import ConfirmForm
from app.services import audit
from app.services.integrations import keys
from app.web.actions import run_confirmed


def keys_page(template: str, status: int = 200, **context: Any) -> Response:
    """`context["new_key"]`, when given, is the key just made: rendered into this response
    only, which neither the browser nor a proxy may keep."""
    response = make_response(render_template(template, confirm=ConfirmForm(), **context), status)
    response.headers["Cache-Control"] = "no-store"
    return response


def revoke_key(
    key_id: int, actor: audit.Actor, owner: keys.Owner, back: str
) -> ResponseReturnValue:
    """Another owner's key is a 404, like a key that does not exist."""
    run_confirmed(
        lambda: keys.revoke(db.session, key_id, actor, owner),
        lambda _none: _("The key is revoked: it no longer works."),
        {},
    )
    return redirect(back)
