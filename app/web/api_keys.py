"""The keys pages of the console and the portal (a staff member's own keys, a partner's, a
clinic's) behave alike, so a person learns them once: a new key is shown on the page that
made it, this once, and never again; then only its prefix, name, scopes and times; revoking
is a confirmed button."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, make_response, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from app.extensions import db
from app.forms.api_keys import KeyForm
from app.forms.common import ConfirmForm
from app.services import audit
from app.services.integrations import keys
from app.web.actions import run_confirmed


def once_only_page(template: str, status: int = 200, **context: Any) -> Response:
    """A page that may carry a secret made just now (a new key, a webhook's signing secret):
    rendered into this response only, which neither the browser nor a proxy may keep."""
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


@dataclass(frozen=True)
class OwnKeys:
    """One owner's keys page (a staff member's, a clinic's): whose keys they are and who
    acts on them, both for the person signed in, and what a new key may do."""

    template: str
    form: type[KeyForm]
    owner: Callable[[], keys.Owner]
    actor: Callable[[], audit.Actor]
    scopes: Callable[[Any], tuple[str, ...]]  # from the valid form

    def register(self, bp: Blueprint) -> None:
        """The page at the blueprint's root, its form's POST, and each key's revoke button."""
        bp.add_url_rule("", "api_keys", self.show, methods=["GET"])
        bp.add_url_rule("", "create", self.create, methods=["POST"])
        bp.add_url_rule("/<int:key_id>/revoke", "revoke", self.revoke, methods=["POST"])

    def _page(
        self, form: KeyForm, status: int = 200, new_key: keys.NewKey | None = None
    ) -> ResponseReturnValue:
        listed = keys.live_keys(db.session, self.owner())
        return once_only_page(self.template, status, keys=listed, form=form, new_key=new_key)

    def show(self) -> ResponseReturnValue:
        return self._page(self.form())

    def create(self) -> ResponseReturnValue:
        form = self.form()
        if not form.validate_on_submit():
            return self._page(form, 422)
        new_key = keys.create_key(
            db.session, form.name.data, self.scopes(form), self.actor(), self.owner()
        )
        return self._page(self.form(formdata=None), new_key=new_key)

    def revoke(self, key_id: int) -> ResponseReturnValue:
        return revoke_key(key_id, self.actor(), self.owner(), url_for(".api_keys"))
