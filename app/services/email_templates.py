"""The emails the platform sends, rendered at send time from ids.

An outbox row keeps only a template name and ids; each builder here loads what its email
needs and returns the subject and the template context. Rendering late means no rendered
body, and so no health data, ever rests in the outbox.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app.models import Assignment, Clinic, ClinicCredential, Lead, OutboundEmail
from app.services.links import external_url, sign

Builder = Callable[..., tuple[str, dict[str, Any]]]
_BUILDERS: dict[str, Builder] = {}


class MissingSubject(LookupError):
    """What the email is about no longer exists; it cannot be rendered."""


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def email_template(name: str) -> Callable[[Builder], Builder]:
    def register(builder: Builder) -> Builder:
        _BUILDERS[name] = builder
        return builder

    return register


def render(session: Session, email: OutboundEmail) -> RenderedEmail:
    builder = _BUILDERS[email.template]
    with force_locale(email.language):
        subject, context = builder(session, **email.context)
        return RenderedEmail(
            subject=subject,
            text=render_template(f"email/{email.template}.txt", **context),
            html=render_template(f"email/{email.template}.html", subject=subject, **context),
        )


def _clinic(session: Session, clinic_id: int) -> Clinic:
    clinic = session.get(Clinic, clinic_id)
    if clinic is None:
        raise MissingSubject(f"clinic {clinic_id} is gone")
    return clinic


def clinic_verification_token(clinic: Clinic) -> str:
    # The address is part of the token: a link sent to an old address verifies nothing.
    return sign("clinic-email", {"clinic": clinic.id, "email": clinic.email})


@email_template("clinic_verify")
def _clinic_verify(session: Session, clinic_id: int) -> tuple[str, dict[str, Any]]:
    clinic = _clinic(session, clinic_id)
    url = external_url("clinics.verify_email", token=clinic_verification_token(clinic))
    return _("Please confirm the email address for %(name)s", name=clinic.name), {
        "clinic": clinic,
        "verify_url": url,
    }


@email_template("staff_new_clinic")
def _staff_new_clinic(session: Session, clinic_id: int) -> tuple[str, dict[str, Any]]:
    clinic = _clinic(session, clinic_id)
    return _("New clinic application: %(name)s", name=clinic.name), {
        "clinic": clinic,
        "review_url": external_url("staff.clinic_detail", clinic_id=clinic.id),
    }


@email_template("clinic_approved")
def _clinic_approved(session: Session, clinic_id: int) -> tuple[str, dict[str, Any]]:
    clinic = _clinic(session, clinic_id)
    return _("%(name)s is now listed on CareRoute", name=clinic.name), {
        "clinic": clinic,
        "listing_url": external_url("clinics.detail", slug=clinic.slug),
    }


@email_template("clinic_rejected")
def _clinic_rejected(session: Session, clinic_id: int) -> tuple[str, dict[str, Any]]:
    clinic = _clinic(session, clinic_id)
    return _("Your CareRoute application for %(name)s", name=clinic.name), {"clinic": clinic}


@email_template("credential_expiring")
def _credential_expiring(
    session: Session, credential_id: int, expires_on: str
) -> tuple[str, dict[str, Any]]:
    credential = session.get(ClinicCredential, credential_id)
    if credential is None:
        raise MissingSubject(f"credential {credential_id} is gone")
    return _("A credential of %(name)s expires soon", name=credential.clinic.name), {
        "clinic": credential.clinic,
        "credential": credential,
        "expires_on": date.fromisoformat(expires_on),
    }


def _lead(session: Session, lead_id: int) -> Lead:
    lead = session.get(Lead, lead_id)
    if lead is None:
        raise MissingSubject(f"lead {lead_id} is gone")
    return lead


def _assignment(session: Session, assignment_id: int) -> Assignment:
    assignment = session.get(Assignment, assignment_id)
    if assignment is None:
        raise MissingSubject(f"assignment {assignment_id} is gone")
    return assignment


def consent_withdrawal_token(lead: Lead) -> str:
    return sign("consent-withdraw", {"lead": lead.id, "ref": lead.reference})


@email_template("patient_confirmation")
def _patient_confirmation(session: Session, lead_id: int) -> tuple[str, dict[str, Any]]:
    lead = _lead(session, lead_id)
    # A duplicate went nowhere new: the patient hears where their first inquiry went.
    routed = lead.duplicate_of if lead.duplicate_of is not None else lead
    clinics = [a.clinic for a in routed.assignments if a.revoked_at is None]
    return _("We have your question (reference %(ref)s)", ref=lead.reference), {
        "lead": lead,
        "clinics": clinics,
        "withdraw_url": external_url("inquiries.withdraw", token=consent_withdrawal_token(lead)),
    }


@email_template("clinic_new_lead")
def _clinic_new_lead(session: Session, assignment_id: int) -> tuple[str, dict[str, Any]]:
    assignment = _assignment(session, assignment_id)
    # No health details here: the patient's message stays in the portal, behind sign-in.
    return _("New patient inquiry %(ref)s", ref=assignment.lead.reference), {
        "clinic": assignment.clinic,
        "lead": assignment.lead,
        "portal_url": external_url(
            "portal.lead",
            lead_id=assignment.lead_id,
            token=sign("portal-lead", {"assignment": assignment.id}),
        ),
    }


@email_template("clinic_consent_withdrawn")
def _clinic_consent_withdrawn(session: Session, assignment_id: int) -> tuple[str, dict[str, Any]]:
    assignment = _assignment(session, assignment_id)
    return _("Inquiry %(ref)s was withdrawn", ref=assignment.lead.reference), {
        "clinic": assignment.clinic,
        "lead": assignment.lead,
    }
