"""The links in a patient's emails, made and checked side by side: their inquiry's own page,
stop sharing it, and ask for a copy or erasure of their data.

They act without a sign-in, so each names the lead and its reference (an id alone opens
nothing), and each expires: a withdrawal link after a year, a page link after
STATUS_LINK_MAX_AGE_SECONDS, a privacy link after PRIVACY_LINK_MAX_AGE_SECONDS.
"""

from __future__ import annotations

from app.models import Lead
from app.models.base import DbSession
from app.services.links import InvalidLink, sign, unsign

STATUS = "inquiry-status"
WITHDRAW = "consent-withdraw"
PRIVACY = "privacy"
WITHDRAW_LINK_MAX_AGE = 365 * 24 * 3600


def _payload(lead: Lead) -> dict[str, object]:
    return {"lead": lead.id, "ref": lead.reference}


def _lead(
    session: DbSession, purpose: str, token: str, max_age: int, *, once_erased: bool = False
) -> Lead:
    """`once_erased`: the link still acts on an erased lead (stopping sharing is harmless)."""
    payload = unsign(purpose, token, max_age=max_age)
    lead = session.get(Lead, payload.get("lead"))
    if lead is None or lead.reference != payload.get("ref"):
        raise InvalidLink(expired=False)
    if lead.anonymised_at is not None and not once_erased:
        raise InvalidLink(expired=False)
    return lead


def status_token(lead: Lead) -> str:
    return sign(STATUS, _payload(lead))


def lead_for_status_token(session: DbSession, token: str, max_age: int) -> Lead:
    """The lead a page link is for; an erased lead's link opens nothing."""
    return _lead(session, STATUS, token, max_age)


def withdrawal_token(lead: Lead) -> str:
    return sign(WITHDRAW, _payload(lead))


def lead_for_withdrawal_token(session: DbSession, token: str) -> Lead:
    """The lead a withdrawal link is for, or `InvalidLink` (expired, tampered, not ours)."""
    return _lead(session, WITHDRAW, token, WITHDRAW_LINK_MAX_AGE, once_erased=True)


def privacy_token(lead: Lead) -> str:
    return sign(PRIVACY, _payload(lead))


def lead_for_privacy_token(session: DbSession, token: str, max_age: int) -> Lead:
    """The lead a privacy link is for; an anonymised lead's link opens nothing."""
    return _lead(session, PRIVACY, token, max_age)
