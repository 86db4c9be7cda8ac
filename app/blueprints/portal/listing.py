"""A clinic's own public listing, edited in the portal: description, capacity, languages and
the procedures it offers with their prices."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from app.extensions import db
from app.forms.portal import ListingForm
from app.models import Clinic
from app.services.clinics import listings
from app.web.sign_in import current_clinic_user

bp = Blueprint("listing", __name__, url_prefix="/listing")


def _listing_form(clinic: Clinic) -> ListingForm:
    """A row per catalogue procedure, filled from what the clinic offers (on GET only: a
    POST is read back from what was sent)."""
    offered = {o.procedure_id: o for o in clinic.offerings}
    procedures = listings.listing_catalogue(db.session)
    data = {
        "description": clinic.description,
        "weekly_capacity": clinic.weekly_capacity,
        "languages": clinic.language_codes,
        "language": clinic.language,
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
    names = {p.slug: p.label for p in procedures}
    for entry in form.offerings.entries:
        entry.label.text = names.get(entry.form.procedure.data, "")
    return form


def _listing(form: ListingForm) -> listings.Listing:
    return listings.Listing(
        description=(form.description.data or "").strip(),
        weekly_capacity=form.weekly_capacity.data,
        languages=list(form.languages.data),
        language=form.language.data,
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
    )


@bp.route("", methods=["GET", "POST"])
def listing() -> ResponseReturnValue:
    user = current_clinic_user()
    clinic = listings.clinic_with_offerings(db.session, user.clinic_id)
    assert clinic is not None
    form = _listing_form(clinic)
    if form.validate_on_submit():
        listings.update_listing(db.session, user.id, _listing(form))
        flash(_("Your listing is saved. The public page shows it now."))
        return redirect(url_for("portal.listing.listing"))
    status = 422 if form.is_submitted() else 200
    return render_template("portal/listing.html", form=form, clinic=clinic), status
