"""The domain model; importing this package registers every table with the metadata."""

from app.models.audit import AuditEvent
from app.models.catalog import Procedure
from app.models.clinics import (
    Clinic,
    ClinicCredential,
    ClinicLanguage,
    ClinicStatus,
    CredentialKind,
    Offering,
)
from app.models.leads import (
    Assignment,
    ClinicResponse,
    Lead,
    LeadAttachment,
    LeadNote,
    LeadStatus,
)
from app.models.outbox import EmailStatus, OutboundEmail, OutboxMessage
from app.models.staff import LoginSession, StaffRole, StaffUser

__all__ = [
    "Assignment",
    "AuditEvent",
    "Clinic",
    "ClinicCredential",
    "ClinicLanguage",
    "ClinicResponse",
    "ClinicStatus",
    "CredentialKind",
    "EmailStatus",
    "Lead",
    "LeadAttachment",
    "LeadNote",
    "LeadStatus",
    "LoginSession",
    "Offering",
    "OutboundEmail",
    "OutboxMessage",
    "Procedure",
    "StaffRole",
    "StaffUser",
]
