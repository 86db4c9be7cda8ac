"""The emails the platform sends, rendered at send time from ids.

An outbox row keeps only a template name and ids; each builder here loads what its email
needs and returns the subject and the template context. Rendering late means no rendered
body, and so no health data, ever rests in the outbox.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.models import (
    Assignment,
    Clinic,
    ClinicCredential,
    ClinicUser,
    Lead,
    PrivacyRequest,
    PrivacyRequestKind,
    WebhookSubscription,
)
from app.models.base import DbSession, utcnow
from app.services.accounts.password_links import password_token, primary_user
from app.services.answers.business_hours import DeadlinePolicy
from app.services.answers.lead_links import lead_link_token
from app.services.clinics.verification_links import clinic_verification_token
from app.services.links import external_url
from app.services.privacy.data_copy_links import data_copy_token
from app.services.privacy.patient_links import privacy_token, status_token, withdrawal_token

Builder = Callable[..., tuple[str, dict[str, Any]]]
_BUILDERS: dict[str, Builder] = {}
# Emails to patients: they may answer, so these carry the REPLY_TO address.
_FOR_PATIENT: set[str] = set()


class MissingSubject(LookupError):
    """What the email is about no longer exists; it cannot be rendered."""


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str
    for_patient: bool = False


def email_template(name: str, for_patient: bool = False) -> Callable[[Builder], Builder]:
    def register(builder: Builder) -> Builder:
        _BUILDERS[name] = builder
        if for_patient:
            _FOR_PATIENT.add(name)
        return builder

    return register


def is_for_patient(template: str) -> bool:
    """Patients are the readers who answer an email: theirs are sent with a Reply-To."""
    return template in _FOR_PATIENT


def render(
    session: DbSession, template: str, context: dict[str, Any], language: str
) -> RenderedEmail:
    """`context` is the outbox row's ids; the builder loads what they point at."""
    builder = _BUILDERS[template]
    with force_locale(language):
        subject, values = builder(session, **context)
        return RenderedEmail(
            subject=subject,
            text=render_template(f"email/{template}.txt", **values),
            html=render_template(f"email/{template}.html", subject=subject, **values),
            for_patient=template in _FOR_PATIENT,
        )


def load_leads(session: DbSession, lead_ids: Collection[int]) -> list[Lead]:
    """The leads whose emails go out together, with their procedure, assignments and clinics,
    in one statement: each builder then finds them in the session's identity map instead of
    asking the database again for every email."""
    if not lead_ids:
        return []
    return list(
        session.scalars(
            select(Lead)
            .where(Lead.id.in_(lead_ids))
            .options(
                joinedload(Lead.procedure),
                joinedload(Lead.assignments).joinedload(Assignment.clinic),
            )
        ).unique()
    )


def _clinic(session: DbSession, clinic_id: int) -> Clinic:
    clinic = session.get(Clinic, clinic_id)
    if clinic is None:
        raise MissingSubject(f"clinic {clinic_id} is gone")
    return clinic


@email_template("clinic_verify")
def _clinic_verify(session: DbSession, clinic_id: int) -> tuple[str, dict[str, Any]]:
    clinic = _clinic(session, clinic_id)
    url = external_url("clinics.verify_email", token=clinic_verification_token(clinic))
    return _("Please confirm the email address for %(name)s", name=clinic.name), {
        "clinic": clinic,
        "verify_url": url,
    }


@email_template("staff_new_clinic")
def _staff_new_clinic(session: DbSession, clinic_id: int) -> tuple[str, dict[str, Any]]:
    clinic = _clinic(session, clinic_id)
    return _("New clinic application: %(name)s", name=clinic.name), {
        "clinic": clinic,
        "review_url": external_url("staff.clinics.clinic_detail", clinic_id=clinic.id),
    }


@email_template("clinic_approved")
def _clinic_approved(session: DbSession, clinic_id: int) -> tuple[str, dict[str, Any]]:
    clinic = _clinic(session, clinic_id)
    return _("%(name)s is now listed on CareRoute", name=clinic.name), {
        "clinic": clinic,
        "listing_url": external_url("clinics.detail", slug=clinic.slug),
    }


@email_template("clinic_rejected")
def _clinic_rejected(session: DbSession, clinic_id: int) -> tuple[str, dict[str, Any]]:
    clinic = _clinic(session, clinic_id)
    return _("Your CareRoute application for %(name)s", name=clinic.name), {"clinic": clinic}


@email_template("clinic_suspended")
def _clinic_suspended(
    session: DbSession, clinic_id: int, reason: str
) -> tuple[str, dict[str, Any]]:
    # Only the clinic and the staff member's reason: nothing about any patient or lead.
    clinic = _clinic(session, clinic_id)
    return _("The CareRoute listing of %(name)s is suspended", name=clinic.name), {
        "clinic": clinic,
        "reason": reason,
    }


@email_template("credential_expiring")
def _credential_expiring(
    session: DbSession, credential_id: int, expires_on: str
) -> tuple[str, dict[str, Any]]:
    credential = session.get(ClinicCredential, credential_id)
    if credential is None:
        raise MissingSubject(f"credential {credential_id} is gone")
    return _("A credential of %(name)s expires soon", name=credential.clinic.name), {
        "clinic": credential.clinic,
        "credential": credential,
        "expires_on": date.fromisoformat(expires_on),
    }


def _lead(session: DbSession, lead_id: int, *load: Any) -> Lead:
    lead = session.get(Lead, lead_id, options=[joinedload(Lead.procedure), *load])
    if lead is None:
        raise MissingSubject(f"lead {lead_id} is gone")
    return lead


def _assignment(session: DbSession, assignment_id: int) -> Assignment:
    """With its lead, the lead's procedure and the clinic: what every email about it shows
    (already in the session when its lead's emails were loaded together)."""
    assignment = session.get(
        Assignment,
        assignment_id,
        options=[
            joinedload(Assignment.lead).joinedload(Lead.procedure),
            joinedload(Assignment.clinic),
        ],
    )
    if assignment is None:
        raise MissingSubject(f"assignment {assignment_id} is gone")
    return assignment


@email_template("patient_confirmation", for_patient=True)
def _patient_confirmation(session: DbSession, lead_id: int) -> tuple[str, dict[str, Any]]:
    lead = _lead(session, lead_id, joinedload(Lead.assignments).joinedload(Assignment.clinic))
    # A duplicate went nowhere new: the patient hears where their first inquiry went.
    routed = lead.duplicate_of if lead.duplicate_of is not None else lead
    clinics = [
        a.clinic for a in routed.assignments if a.revoked_at is None and not a.awaiting_consent
    ]
    return _("We have your question (reference %(ref)s)", ref=lead.reference), {
        "lead": lead,
        "clinics": clinics,
        "status_url": external_url("patient.page", token=status_token(lead)),
        "withdraw_url": external_url("inquiries.withdraw", token=withdrawal_token(lead)),
        "privacy_url": external_url("inquiries.privacy", token=privacy_token(lead)),
        "answer_days": DeadlinePolicy.from_config(current_app.config).answer_working_days(),
    }


def _portal_links(session: DbSession, assignment: Assignment) -> dict[str, Any]:
    """The lead's portal page, and a password link while the clinic has not set one."""
    user = primary_user(session, assignment.clinic_id, assignment.clinic.email)
    return {
        "portal_url": external_url(
            "portal.leads.lead",
            lead_id=assignment.lead_id,
            t=lead_link_token(assignment),
        ),
        "password_url": external_url("portal.passwords.set_password", token=password_token(user))
        if user is not None and user.password_hash is None
        else None,
    }


@email_template("clinic_new_lead")
def _clinic_new_lead(session: DbSession, assignment_id: int) -> tuple[str, dict[str, Any]]:
    assignment = _assignment(session, assignment_id)
    # No health details here: the patient's message stays in the portal, behind sign-in.
    # Rendered just before the send that starts the answer clock, so the deadline it
    # states is the one the clinic is held to.
    return _("New patient inquiry %(ref)s", ref=assignment.lead.reference), {
        "clinic": assignment.clinic,
        "lead": assignment.lead,
        "due_at": DeadlinePolicy.from_config(current_app.config).due_at(utcnow()),
        **_portal_links(session, assignment),
    }


@email_template("clinic_reminder")
def _clinic_reminder(
    session: DbSession, assignment_id: int, due_at: str
) -> tuple[str, dict[str, Any]]:
    assignment = _assignment(session, assignment_id)
    return _(
        "Reminder: inquiry %(ref)s is waiting for your answer", ref=assignment.lead.reference
    ), {
        "clinic": assignment.clinic,
        "lead": assignment.lead,
        "due_at": datetime.fromisoformat(due_at),
        **_portal_links(session, assignment),
    }


@email_template("patient_clinic_answered", for_patient=True)
def _patient_clinic_answered(
    session: DbSession, lead_id: int, assignment_id: int
) -> tuple[str, dict[str, Any]]:
    assignment = _assignment(session, assignment_id)
    lead = _lead(session, lead_id)
    return _("%(clinic)s will contact you about your question", clinic=assignment.clinic.name), {
        "lead": lead,
        "clinic": assignment.clinic,
        "status_url": external_url("patient.page", token=status_token(lead)),
    }


@email_template("patient_staff_message", for_patient=True)
def _patient_staff_message(session: DbSession, lead_id: int) -> tuple[str, dict[str, Any]]:
    lead = _lead(session, lead_id)
    return _("The CareRoute team wrote to you about your question %(ref)s", ref=lead.reference), {
        "lead": lead,
        "status_url": external_url("patient.page", token=status_token(lead)),
    }


@email_template("patient_status_links", for_patient=True)
def _patient_status_links(session: DbSession, lead_ids: list[int]) -> tuple[str, dict[str, Any]]:
    leads = [
        lead
        for lead in session.scalars(
            select(Lead)
            .where(Lead.id.in_(lead_ids), Lead.anonymised_at.is_(None))
            .options(joinedload(Lead.procedure))
            .order_by(Lead.created_at.desc())
        )
    ]
    if not leads:
        raise MissingSubject("every inquiry listed was erased")
    return _("Links to your questions on CareRoute"), {
        "inquiries": [
            (lead, external_url("patient.page", token=status_token(lead))) for lead in leads
        ]
    }


@email_template("staff_privacy_request")
def _staff_privacy_request(session: DbSession, request_id: int) -> tuple[str, dict[str, Any]]:
    request = session.get(PrivacyRequest, request_id)
    if request is None:
        raise MissingSubject(f"privacy request {request_id} is gone")
    # The address is not in the email: staff open the console to see whose request it is.
    subject = (
        _("A patient asked for a copy of their data")
        if request.kind is PrivacyRequestKind.EXPORT
        else _("A patient asked for their data to be deleted")
    )
    return subject, {
        "request": request,
        "console_url": external_url("staff.privacy.requests"),
    }


@email_template("patient_data_copy", for_patient=True)
def _patient_data_copy(session: DbSession, request_id: int) -> tuple[str, dict[str, Any]]:
    request = session.get(PrivacyRequest, request_id)
    if request is None or not request.email or request.handled_at is None:
        raise MissingSubject(f"privacy request {request_id} is gone or erased")
    # A link only: the copy is made when the patient opens it, so no health data is mailed.
    # The token is made now, so the link's life starts when the email leaves.
    max_age = current_app.config["EMAIL_LINK_MAX_AGE_SECONDS"]
    return _("Your information from CareRoute is ready"), {
        "copy_url": external_url("inquiries.data_copy", token=data_copy_token(request)),
        "link_days": max(1, round(max_age / 86400)),
    }


@email_template("clinic_password")
def _clinic_password(session: DbSession, user_id: int, why: str) -> tuple[str, dict[str, Any]]:
    user = session.get(ClinicUser, user_id)
    if user is None or not user.active:
        raise MissingSubject(f"clinic user {user_id} is gone")
    subject = (
        _("You are invited to the CareRoute portal of %(name)s", name=user.clinic.name)
        if why == "invite"
        else _("Set your CareRoute portal password")
    )
    return subject, {
        "user": user,
        "clinic": user.clinic,
        "invited": why == "invite",
        "password_url": external_url("portal.passwords.set_password", token=password_token(user)),
    }


@email_template("clinic_consent_withdrawn")
def _clinic_consent_withdrawn(session: DbSession, assignment_id: int) -> tuple[str, dict[str, Any]]:
    assignment = _assignment(session, assignment_id)
    return _("Inquiry %(ref)s was withdrawn", ref=assignment.lead.reference), {
        "clinic": assignment.clinic,
        "lead": assignment.lead,
    }


# The notices about a lead's later life: each names the lead and links to where it is read,
# and none holds what the patient or the clinic wrote.
_CLINIC_NOTICES: dict[str, Callable[[Assignment], str]] = {
    "clinic_new_message": lambda a: _("New message about inquiry %(ref)s", ref=a.lead.reference),
    "clinic_new_document": lambda a: _(
        "The patient added a document to inquiry %(ref)s", ref=a.lead.reference
    ),
    "clinic_chosen": lambda a: _(
        "The patient of inquiry %(ref)s chose %(clinic)s",
        ref=a.lead.reference,
        clinic=a.clinic.name,
    ),
    "clinic_choice_changed": lambda a: _(
        "The patient of inquiry %(ref)s chose another clinic after all", ref=a.lead.reference
    ),
    "clinic_chose_elsewhere": lambda a: _(
        "The patient of inquiry %(ref)s booked another clinic", ref=a.lead.reference
    ),
    "clinic_visa_letter_requested": lambda a: _(
        "Visa letter requested for inquiry %(ref)s", ref=a.lead.reference
    ),
}
_PATIENT_NOTICES: dict[str, Callable[[Assignment], str]] = {
    "patient_new_message": lambda a: _("%(clinic)s wrote to you", clinic=a.clinic.name),
    "patient_consent_request": lambda a: _(
        "May we share your question with %(clinic)s?", clinic=a.clinic.name
    ),
    "patient_booked": lambda a: _("%(clinic)s confirmed your treatment date", clinic=a.clinic.name),
    "patient_visa_letter_ready": lambda a: _(
        "Your visa letter from %(clinic)s is ready", clinic=a.clinic.name
    ),
}


def _clinic_notice(subject: Callable[[Assignment], str]) -> Builder:
    def build(session: DbSession, assignment_id: int) -> tuple[str, dict[str, Any]]:
        assignment = _assignment(session, assignment_id)
        return subject(assignment), {
            "clinic": assignment.clinic,
            "lead": assignment.lead,
            **_portal_links(session, assignment),
        }

    return build


def _patient_notice(subject: Callable[[Assignment], str]) -> Builder:
    def build(session: DbSession, lead_id: int, assignment_id: int) -> tuple[str, dict[str, Any]]:
        assignment = _assignment(session, assignment_id)
        lead = assignment.lead
        if lead.id != lead_id:
            raise MissingSubject(f"assignment {assignment_id} is not lead {lead_id}'s")
        wait = timedelta(hours=current_app.config["CONSENT_WAIT_HOURS"])
        return subject(assignment), {
            "lead": lead,
            "clinic": assignment.clinic,
            "status_url": external_url("patient.page", token=status_token(lead)),
            "answer_by": (assignment.consent_requested_at or utcnow()) + wait,
        }

    return build


for _name, _subject in _CLINIC_NOTICES.items():
    email_template(_name)(_clinic_notice(_subject))
for _name, _subject in _PATIENT_NOTICES.items():
    email_template(_name, for_patient=True)(_patient_notice(_subject))


@email_template("staff_clinic_chosen")
def _staff_clinic_chosen(session: DbSession, assignment_id: int) -> tuple[str, dict[str, Any]]:
    assignment = _assignment(session, assignment_id)
    subject = _(
        "A patient chose %(clinic)s (%(ref)s)",
        clinic=assignment.clinic.name,
        ref=assignment.lead.reference,
    )
    return subject, {
        "clinic": assignment.clinic,
        "lead": assignment.lead,
        "console_url": external_url("staff.leads.lead_detail", lead_id=assignment.lead_id),
    }


@email_template("webhook_disabled")
def _webhook_disabled(session: DbSession, subscription_id: int) -> tuple[str, dict[str, Any]]:
    subscription = session.get(WebhookSubscription, subscription_id)
    if subscription is None:
        raise MissingSubject(f"webhook subscription {subscription_id} is gone")
    return _("A CareRoute webhook was turned off"), {"subscription": subscription}
