"""The inquiry form inside a partner's page: `/embed/inquire?partner=<public id>`.

It is framed by another site, where a browser that blocks third-party cookies keeps none of
ours: so it needs no cookie. There is no CSRF token (it protects a signed-in session, and
this form has none); the inquiry form's own defences hold (the signed fill timer, the
honeypot, the submission id against double sends) with the same rate limit. Only the
partner's registered origins may frame it.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, g, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from app.blueprints.inquiries import inquiry_limit
from app.extensions import csrf, db, limiter
from app.forms.inquiry import EmbeddedInquiryForm
from app.models import Partner
from app.models.base import utcnow
from app.security import framed_by
from app.services.answers.business_hours import DeadlinePolicy
from app.services.clinics import directory
from app.services.integrations.partners import partner_by_public_id
from app.services.leads.intake import submit_inquiry

bp = Blueprint("embed", __name__, url_prefix="/embed")
csrf.exempt(bp)


@bp.before_request
def _partner() -> None:
    partner = partner_by_public_id(db.session, request.args.get("partner", ""))
    if partner is None:
        abort(404)
    g.partner = partner


@bp.after_request
def _framed_by_partner(response: Response) -> Response:
    partner: Partner | None = g.get("partner")
    if partner is not None:
        response.headers["Content-Security-Policy"] = framed_by(partner.origins)
    return response


@bp.route("/inquire", methods=["GET", "POST"])
@limiter.limit(inquiry_limit, methods=["POST"])
def inquire() -> ResponseReturnValue:
    partner: Partner = g.partner
    chosen = directory.public_clinic(db.session, request.args.get("clinic", ""), utcnow().date())
    form = EmbeddedInquiryForm()
    if chosen is not None and not form.is_submitted():
        form.clinic.data = chosen.slug
    if form.validate_on_submit():
        submitted = submit_inquiry(
            db.session,
            form.to_inquiry("partner", partner_id=partner.id),
            form.upload(),
            current_app.config["UPLOAD_DIR"],
        )
        return render_template(
            "embed/thanks.html",
            reference=submitted.reference,
            answer_days=DeadlinePolicy.from_config(current_app.config).answer_working_days(),
        )
    status = 422 if form.is_submitted() else 200
    return render_template("embed/inquire.html", form=form, clinic=chosen), status
