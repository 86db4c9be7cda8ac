"""The domain model; importing this package registers every table with the metadata."""

from app.models.assignment_rules import AssignmentRule, AssignmentRuleMember
from app.models.audit import AuditEvent
from app.models.catalog import Procedure
from app.models.clinic_users import ClinicUser
from app.models.clinics import (
    Clinic,
    ClinicCredential,
    ClinicLanguage,
    ClinicStatus,
    CredentialKind,
    Offering,
)
from app.models.integrations import (
    ApiKey,
    DeliveryStatus,
    Partner,
    WebhookDelivery,
    WebhookSubscription,
)
from app.models.leads import (
    OPEN_STATUSES,
    Assignment,
    AttachmentKind,
    ClinicResponse,
    Lead,
    LeadAttachment,
    LeadMessage,
    LeadNote,
    LeadStatus,
    MessageSender,
    Quote,
    RevokedReason,
    StaffMessage,
)
from app.models.outbox import EmailStatus, OutboundEmail, OutboxMessage
from app.models.privacy import PrivacyRequest, PrivacyRequestKind
from app.models.sessions import PORTAL_STATUSES, LoginSession
from app.models.staff import StaffRole, StaffUser
from app.models.triage import LeadTag, SavedView, Tag

__all__ = [
    "OPEN_STATUSES",
    "PORTAL_STATUSES",
    "ApiKey",
    "Assignment",
    "AssignmentRule",
    "AssignmentRuleMember",
    "AttachmentKind",
    "AuditEvent",
    "Clinic",
    "ClinicCredential",
    "ClinicLanguage",
    "ClinicResponse",
    "ClinicStatus",
    "ClinicUser",
    "CredentialKind",
    "DeliveryStatus",
    "EmailStatus",
    "Lead",
    "LeadAttachment",
    "LeadMessage",
    "LeadNote",
    "LeadStatus",
    "LeadTag",
    "LoginSession",
    "MessageSender",
    "Offering",
    "OutboundEmail",
    "OutboxMessage",
    "Partner",
    "PrivacyRequest",
    "PrivacyRequestKind",
    "Procedure",
    "Quote",
    "RevokedReason",
    "SavedView",
    "StaffMessage",
    "StaffRole",
    "StaffUser",
    "Tag",
    "WebhookDelivery",
    "WebhookSubscription",
]
