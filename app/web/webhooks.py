"""The webhooks pages of the portal (a clinic's) and the console (a partner's, for admins)
behave alike, so a person learns them once: the subscriptions with their state, a form to
subscribe a URL whose signing secret is shown on the page that made it and never again, a
confirmed button to stop one, and each one's delivery log with a button to send a delivery
again."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from app.extensions import db
from app.forms.common import ConfirmForm
from app.forms.webhooks import WebhookForm
from app.models import WebhookSubscription
from app.services import audit
from app.services.integrations import webhooks
from app.web.actions import run_confirmed
from app.web.api_keys import once_only_page


@dataclass(frozen=True)
class WebhookOwner:
    """A partner or a clinic, and the name its pages call it by."""

    name: str
    partner_id: int | None = None
    clinic_id: int | None = None


@dataclass(frozen=True)
class OwnWebhooks:
    """One owner's webhooks pages. `owner` takes the blueprint's URL arguments (the console
    names the partner in its URLs; the portal's clinic is the signed-in user's), so each
    request reaches that owner's subscriptions only; `actor` is who the audit trail names."""

    template: str
    log_template: str
    owner: Callable[..., WebhookOwner]
    actor: Callable[[], audit.Actor]

    def register(self, bp: Blueprint) -> None:
        """The list at the blueprint's root with its form's POST, each subscription's
        delivery log at /<id>, and the stop and send-again buttons."""
        bp.add_url_rule("", "webhooks", self.show, methods=["GET"])
        bp.add_url_rule("", "subscribe", self.subscribe, methods=["POST"])
        bp.add_url_rule("/<int:subscription_id>", "deliveries", self.deliveries, methods=["GET"])
        bp.add_url_rule("/<int:subscription_id>/stop", "stop", self.stop, methods=["POST"])
        bp.add_url_rule(
            "/<int:subscription_id>/deliveries/<int:delivery_id>/send-again",
            "redeliver",
            self.redeliver,
            methods=["POST"],
        )

    def _page(
        self,
        where: dict[str, Any],
        form: WebhookForm,
        status: int = 200,
        new: WebhookSubscription | None = None,
    ) -> ResponseReturnValue:
        """`new`, the subscription just made, puts its secret on this response only."""
        owner = self.owner(**where)
        listed = webhooks.subscriptions_of(db.session, owner.partner_id, owner.clinic_id)
        return once_only_page(
            self.template,
            status,
            owner=owner,
            subscriptions=listed,
            form=form,
            new=new,
            url_args=where,
        )

    def _owned(self, where: dict[str, Any], subscription_id: int) -> WebhookSubscription:
        """LookupError for another owner's subscription, as for none (the buttons' 404)."""
        owner = self.owner(**where)
        return webhooks.owned(db.session, subscription_id, owner.partner_id, owner.clinic_id)

    def show(self, **where: Any) -> ResponseReturnValue:
        return self._page(where, WebhookForm())

    def subscribe(self, **where: Any) -> ResponseReturnValue:
        """A refusal from the service is said next to the URL, with every answer kept."""
        form = WebhookForm()
        if not form.validate_on_submit():
            return self._page(where, form, 422)
        owner = self.owner(**where)
        try:
            new = webhooks.subscribe(
                db.session,
                form.url.data,
                form.events.data,
                self.actor(),
                partner_id=owner.partner_id,
                clinic_id=owner.clinic_id,
            )
        except webhooks.SubscriptionRefused as exc:
            form.url.errors = [_("CareRoute cannot send to this address: %(why)s.", why=str(exc))]
            return self._page(where, form, 422)
        return self._page(where, WebhookForm(formdata=None), new=new)

    def deliveries(self, subscription_id: int, **where: Any) -> ResponseReturnValue:
        owner = self.owner(**where)
        try:
            subscription = webhooks.owned(
                db.session, subscription_id, owner.partner_id, owner.clinic_id
            )
        except LookupError:
            abort(404)
        return render_template(
            self.log_template,
            owner=owner,
            subscription=subscription,
            deliveries=webhooks.delivery_log(db.session, subscription.id),
            confirm=ConfirmForm(),
            url_args=where,
        )

    def stop(self, subscription_id: int, **where: Any) -> ResponseReturnValue:
        run_confirmed(
            lambda: webhooks.unsubscribe(
                db.session, self._owned(where, subscription_id), self.actor()
            ),
            lambda _none: _("The webhook is stopped: nothing more is sent to that address."),
            {},
        )
        return redirect(url_for(".webhooks", **where))

    def redeliver(
        self, subscription_id: int, delivery_id: int, **where: Any
    ) -> ResponseReturnValue:
        run_confirmed(
            lambda: webhooks.redeliver(
                db.session, self._owned(where, subscription_id), delivery_id, self.actor()
            ),
            lambda _delivery: _("The delivery will be sent again in a moment."),
            {},
        )
        return redirect(url_for(".deliveries", subscription_id=subscription_id, **where))
