"""The fictional world every email is rendered from, and what each email's outbox row holds:
the email snapshots and the translation checks render the same emails from it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from app.extensions import db
from app.models import (
    Assignment,
    Clinic,
    ClinicCredential,
    ClinicStatus,
    ClinicUser,
    Lead,
    PrivacyRequest,
    PrivacyRequestKind,
    WebhookSubscription,
)
from tests.support.clock import NOW
from tests.support.factories import (
    make_clinic,
    make_clinic_user,
    make_privacy_request,
    routed_lead,
)


@dataclass(frozen=True)
class World:
    """The fictional data every email is rendered from."""

    clinic: Clinic  # listed, insured until 20 December, its portal account not set up yet
    user: ClinicUser  # the clinic's own address, invited, no password yet
    insurance: ClinicCredential
    applicant: Clinic  # applied, not reviewed
    rejected: Clinic
    lead: Lead  # routed to the clinic and one other
    assignment: Assignment  # the lead at the clinic, chosen by the patient and booked
    offered: Assignment  # the lead offered to a third clinic, the patient not yet asked
    webhook: WebhookSubscription  # the clinic's, failing since NOW
    request: PrivacyRequest  # the patient's copy, asked for and made


def build_world() -> World:
    clinic = make_clinic(
        "Seolleung Test Clinic", languages=("ko", "en"), insured_until=date(2026, 12, 20)
    )
    make_clinic("Namsan Test Hospital", languages=("ko", "en", "ja"))
    user = make_clinic_user(clinic, with_password=False)
    applicant = make_clinic("Bukhansan Test Clinic", status=ClinicStatus.PENDING)
    rejected = make_clinic(
        "Gwanak Test Clinic",
        status=ClinicStatus.REJECTED,
        status_reason="The licence number does not match the one in the national registry.",
    )
    lead = routed_lead(
        reference="CR-TEST-0001",
        full_name="Aigerim Testova",
        email="aigerim.testova@example.com",
        language="en",
    )
    request = make_privacy_request(PrivacyRequestKind.EXPORT, lead.email, lead, handled_at=NOW)
    lead.treatment_date = date(2027, 1, 12)
    offered = Assignment(
        lead=lead,
        clinic=make_clinic("Hallasan Test Clinic", languages=("ko", "en")),
        rank=3,
        consent_requested_at=NOW,
    )
    db.session.add(offered)
    webhook = WebhookSubscription(
        url="https://crm.seolleung-test.example/careroute",
        events=["assignment.answered"],
        secret="whsec_dGVzdC1vbmx5LXdlYmhvb2stc2VjcmV0",
        clinic=clinic,
        failing_since=NOW,
    )
    db.session.add(webhook)
    db.session.commit()
    return World(
        clinic=clinic,
        user=user,
        insurance=next(c for c in clinic.credentials if c.code == "insurance"),
        applicant=applicant,
        rejected=rejected,
        lead=lead,
        assignment=next(a for a in lead.assignments if a.clinic_id == clinic.id),
        request=request,
        offered=offered,
        webhook=webhook,
    )


# What the outbox row of each email holds (the ids and values its builder takes).
CONTEXTS: dict[str, Callable[[World], dict[str, Any]]] = {
    "clinic_verify": lambda w: {"clinic_id": w.applicant.id},
    "staff_new_clinic": lambda w: {"clinic_id": w.applicant.id},
    "clinic_approved": lambda w: {"clinic_id": w.clinic.id},
    "clinic_rejected": lambda w: {"clinic_id": w.rejected.id},
    "clinic_suspended": lambda w: {
        "clinic_id": w.clinic.id,
        "reason": "Three patients reported that the clinic did not answer them.",
    },
    "credential_expiring": lambda w: {
        "credential_id": w.insurance.id,
        "expires_on": w.insurance.expires_on.isoformat(),  # type: ignore[union-attr]
    },
    "patient_confirmation": lambda w: {"lead_id": w.lead.id},
    "clinic_new_lead": lambda w: {"assignment_id": w.assignment.id},
    "clinic_reminder": lambda w: {
        "assignment_id": w.assignment.id,
        "due_at": "2026-11-27T09:00:00+00:00",
    },
    "patient_clinic_answered": lambda w: {"lead_id": w.lead.id, "assignment_id": w.assignment.id},
    "staff_privacy_request": lambda w: {"request_id": w.request.id},
    "patient_data_copy": lambda w: {"request_id": w.request.id},
    "patient_status_links": lambda w: {"lead_ids": [w.lead.id]},
    "patient_staff_message": lambda w: {"lead_id": w.lead.id},
    "clinic_password": lambda w: {"user_id": w.user.id, "why": "invite"},
    "clinic_consent_withdrawn": lambda w: {"assignment_id": w.assignment.id},
    "webhook_disabled": lambda w: {"subscription_id": w.webhook.id},
    **{
        template: lambda w: {"assignment_id": w.assignment.id}
        for template in (
            "clinic_new_message",
            "clinic_new_document",
            "clinic_chosen",
            "clinic_choice_changed",
            "clinic_chose_elsewhere",
            "clinic_visa_letter_requested",
            "staff_clinic_chosen",
        )
    },
    "patient_consent_request": lambda w: {"lead_id": w.lead.id, "assignment_id": w.offered.id},
    **{
        template: lambda w: {"lead_id": w.lead.id, "assignment_id": w.assignment.id}
        for template in (
            "patient_new_message",
            "patient_booked",
            "patient_visa_letter_ready",
        )
    },
}
