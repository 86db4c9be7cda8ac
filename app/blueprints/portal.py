"""The clinic portal: a clinic's own leads, its answers, its listing and its colleagues.

Every lead page goes through `answering.open_assignment`: a lead that was never routed
to the signed-in user's clinic (or was withdrawn or moved on) is a 404, the same as a lead
that does not exist.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.blueprints.downloads import send_attachment
from app.blueprints.sign_in import sign_in_page, sign_out
from app.blueprints.staff import login_limit
from app.extensions import db, limiter
from app.forms.common import ConfirmForm
from app.forms.portal import DeclineForm, EmailForm, ListingForm, QuoteForm, SetPasswordForm
from app.models import Assignment, Clinic, ClinicResponse, ClinicUser, Offering, Procedure
from app.models.base import utcnow
from app.services.accounts import clinic_users
from app.services.accounts.password_links import user_for_password_token
from app.services.answers import answering
from app.services.answers.business_hours import DeadlinePolicy
from app.services.answers.stats import recent_answer_stats
from app.services.clinics import listings
from app.services.links import InvalidLink, unsign

bp = Blueprint("portal", __name__, url_prefix="/portal")

PUBLIC_ENDPOINTS = {"portal.login", "portal.set_password", "portal.forgot_password"}
PER_PAGE = 50
# How long an email's lead link can still explain why the lead is no longer there.
LINK_EXPLAINS_FOR = 90 * 24 * 3600


@bp.before_request
def require_clinic_user() -> ResponseReturnValue | None:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if current_user.is_authenticated and current_user.is_clinic_user:
        return None
    return redirect(url_for("portal.login", next=request.full_path.rstrip("?")))


def me() -> ClinicUser:
    return current_user.clinic_user  # type: ignore[no-any-return]


def _policy() -> DeadlinePolicy:
    return DeadlinePolicy.from_config(current_app.config)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
def login() -> ResponseReturnValue:
    return sign_in_page(
        ClinicUser,
        "portal/base.html",
        _("Clinic portal sign-in"),
        "portal.leads",
        forgot_endpoint="portal.forgot_password",
    )


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    return sign_out("portal.login")


def _link_refused(exc: InvalidLink) -> ResponseReturnValue:
    return render_template("portal/link_refused.html", expired=exc.expired, used=exc.used), 410


@bp.route("/password/<token>", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
def set_password(token: str) -> ResponseReturnValue:
    max_age = current_app.config["PASSWORD_LINK_MAX_AGE_SECONDS"]
    try:
        user = user_for_password_token(db.session, token, max_age)
    except InvalidLink as exc:
        return _link_refused(exc)
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            clinic_users.set_password(db.session, token, form.password.data, max_age)
        except InvalidLink as exc:
            return _link_refused(exc)
        flash(_("Your password is set. Please sign in."))
        return redirect(url_for("portal.login"))
    status = 422 if form.is_submitted() else 200
    return render_template("portal/set_password.html", form=form, user=user), status


@bp.route("/password", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
def forgot_password() -> ResponseReturnValue:
    form = EmailForm()
    if form.validate_on_submit():
        clinic_users.request_password_link(db.session, form.email.data)
        return render_template("portal/password_link_sent.html", email=form.email.data)
    status = 422 if form.is_submitted() else 200
    return render_template("portal/forgot_password.html", form=form), status


@bp.get("/")
def leads() -> ResponseReturnValue:
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    rows = answering.inbox(db.session, me().clinic_id, page, PER_PAGE)
    clinic_id = me().clinic_id
    stats = recent_answer_stats(db.session, [clinic_id], current_app.config, utcnow())[clinic_id]
    return render_template(
        "portal/leads.html",
        assignments=rows[:PER_PAGE],
        next_page=page + 1 if len(rows) > PER_PAGE else None,
        page=page,
        policy=_policy(),
        stats=stats,
        clinic=me().clinic,
    )


def _lead_page(
    lead_id: int,
    quote_form: QuoteForm | None = None,
    decline_form: DeclineForm | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    try:
        assignment = answering.record_view(db.session, lead_id, me().id)
    except LookupError:
        return _gone_or_missing(lead_id)
    quote = assignment.quote
    return render_template(
        "portal/lead.html",
        assignment=assignment,
        lead=assignment.lead,
        policy=_policy(),
        contacted_form=ConfirmForm(),
        quote_form=quote_form or QuoteForm(prefix="quote", obj=quote),
        decline_form=decline_form or DeclineForm(prefix="decline"),
    ), status


def _gone_or_missing(lead_id: int) -> ResponseReturnValue:
    """A clinic following its own email link to a lead that moved on learns why; anyone
    else (no link, another clinic's link) gets the plain 404."""
    try:
        payload = unsign("portal-lead", request.args.get("t", ""), max_age=LINK_EXPLAINS_FOR)
    except InvalidLink:
        abort(404)
    assignment = db.session.get(Assignment, payload.get("assignment"))
    if (
        assignment is None
        or assignment.lead_id != lead_id
        or assignment.clinic_id != me().clinic_id
    ):
        abort(404)
    return render_template("portal/lead_gone.html", assignment=assignment, policy=_policy()), 410


@bp.get("/leads/<int:lead_id>")
def lead(lead_id: int) -> ResponseReturnValue:
    return _lead_page(lead_id)


def _answer(
    lead_id: int, response: ClinicResponse, done: str, **details: object
) -> ResponseReturnValue:
    try:
        answering.answer(
            db.session,
            lead_id,
            me().id,
            response,
            max_clinics=current_app.config["ROUTING_MAX_CLINICS"],
            **details,  # type: ignore[arg-type]
        )
    except LookupError:
        abort(404)
    except answering.AnswerRefused:
        abort(400)  # the forms ask for what an answer needs before it gets here
    flash(done)
    if response is ClinicResponse.DECLINED:
        return redirect(url_for("portal.leads"))  # the lead is no longer the clinic's to see
    return redirect(url_for("portal.lead", lead_id=lead_id))


@bp.post("/leads/<int:lead_id>/contacted")
def contacted(lead_id: int) -> ResponseReturnValue:
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    return _answer(
        lead_id, ClinicResponse.CONTACTED, _("Thank you. We told the patient you will be in touch.")
    )


@bp.post("/leads/<int:lead_id>/quote")
def quote(lead_id: int) -> ResponseReturnValue:
    form = QuoteForm(prefix="quote")
    if not form.validate_on_submit():
        return _lead_page(lead_id, quote_form=form, status=422)
    return _answer(lead_id, ClinicResponse.QUOTED, _("Your quote is saved."), quote=form.details())


@bp.post("/leads/<int:lead_id>/decline")
def decline(lead_id: int) -> ResponseReturnValue:
    form = DeclineForm(prefix="decline")
    if not form.validate_on_submit():
        return _lead_page(lead_id, decline_form=form, status=422)
    return _answer(
        lead_id,
        ClinicResponse.DECLINED,
        _("Thank you for telling us. The inquiry goes to another clinic."),
        reason=form.reason.data,
    )


@bp.get("/leads/<int:lead_id>/attachment")
def attachment(lead_id: int) -> ResponseReturnValue:
    try:
        assignment = answering.record_download(db.session, lead_id, me().id)
    except LookupError:
        abort(404)
    lead = assignment.lead
    assert lead.attachment is not None
    return send_attachment(current_app.config["UPLOAD_DIR"], lead.attachment, lead.reference)


def _listing_form(clinic: Clinic) -> ListingForm:
    offered = {o.procedure_id: o for o in clinic.offerings}
    procedures = db.session.scalars(
        select(Procedure).order_by(Procedure.category, Procedure.name)
    ).all()
    data = {
        "description": clinic.description,
        "weekly_capacity": clinic.weekly_capacity,
        "languages": clinic.language_codes,
        "offerings": [
            {
                "procedure": p.slug,
                "offered": p.id in offered,
                "price_min_usd": offered[p.id].price_min_usd if p.id in offered else None,
                "price_max_usd": offered[p.id].price_max_usd if p.id in offered else None,
                "notes": offered[p.id].notes if p.id in offered else "",
            }
            for p in procedures
        ],
    }
    form = ListingForm(data=None if request.method == "POST" else data)
    names = {p.slug: p.name for p in procedures}
    for entry in form.offerings.entries:
        entry.label.text = names.get(entry.form.procedure.data, "")
    return form


@bp.route("/listing", methods=["GET", "POST"])
def listing() -> ResponseReturnValue:
    clinic = db.session.get(
        Clinic,
        me().clinic_id,
        options=[selectinload(Clinic.offerings).selectinload(Offering.procedure)],
    )
    assert clinic is not None
    form = _listing_form(clinic)
    if form.validate_on_submit():
        listings.update_listing(
            db.session,
            me().id,
            listings.Listing(
                description=(form.description.data or "").strip(),
                weekly_capacity=form.weekly_capacity.data,
                languages=list(form.languages.data),
                offerings=[
                    listings.OfferedProcedure(
                        procedure=entry.form.procedure.data,
                        price_min_usd=entry.form.price_min_usd.data,
                        price_max_usd=entry.form.price_max_usd.data,
                        notes=(entry.form.notes.data or "").strip(),
                    )
                    for entry in form.offerings.entries
                    if entry.form.offered.data
                ],
            ),
        )
        flash(_("Your listing is saved. The public page shows it now."))
        return redirect(url_for("portal.listing"))
    status = 422 if form.is_submitted() else 200
    return render_template("portal/listing.html", form=form, clinic=clinic), status


def _team_page(form: EmailForm, status: int = 200) -> ResponseReturnValue:
    users = db.session.scalars(
        select(ClinicUser)
        .where(ClinicUser.clinic_id == me().clinic_id, ClinicUser.active.is_(True))
        .order_by(ClinicUser.email)
    ).all()
    return render_template(
        "portal/team.html", users=users, form=form, confirm=ConfirmForm(), me=me()
    ), status


@bp.get("/team")
def team() -> ResponseReturnValue:
    return _team_page(EmailForm())


@bp.post("/team")
def invite() -> ResponseReturnValue:
    form = EmailForm()
    if form.validate_on_submit():
        try:
            clinic_users.invite_colleague(db.session, me().id, form.email.data)
        except clinic_users.AccountRefused:
            form.email.errors = [_("That address already has a portal account.")]
        else:
            flash(_("We sent %(email)s a link to set a password.", email=form.email.data))
            return redirect(url_for("portal.team"))
    return _team_page(form, 422)


@bp.post("/team/<int:user_id>/remove")
def remove(user_id: int) -> ResponseReturnValue:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        clinic_users.deactivate_colleague(db.session, me().id, user_id)
    except LookupError:
        abort(404)
    except clinic_users.AccountRefused:
        flash(_("You cannot remove your own account."), "error")
    else:
        flash(_("The colleague can no longer sign in."))
    return redirect(url_for("portal.team"))
