"""The link that brings a patient the copy of their data, made and checked side by side.

The link opens health data without a sign-in, so it expires (`EMAIL_LINK_MAX_AGE_SECONDS`)
and carries a fingerprint of the address the request is about: an erasure blanks that
address, and with it every copy link still in someone's inbox.
"""

from __future__ import annotations

import hashlib

from app.models import PrivacyRequest, PrivacyRequestKind
from app.models.base import DbSession
from app.services.links import InvalidLink, sign, unsign

PURPOSE = "data-copy"


def _fingerprint(request: PrivacyRequest) -> str:
    return hashlib.sha256(f"{request.id}:{request.email}".encode()).hexdigest()[:16]


def data_copy_token(request: PrivacyRequest) -> str:
    return sign(PURPOSE, {"request": request.id, "fp": _fingerprint(request)})


def request_for_data_copy_token(session: DbSession, token: str, max_age: int) -> PrivacyRequest:
    """The fulfilled copy request a link is for, or `InvalidLink` (expired, erased, not ours)."""
    payload = unsign(PURPOSE, token, max_age=max_age)
    request = session.get(PrivacyRequest, payload.get("request"))
    if (
        request is None
        or request.kind is not PrivacyRequestKind.EXPORT
        or request.handled_at is None
        or not request.email
        or payload.get("fp") != _fingerprint(request)
    ):
        raise InvalidLink(expired=False)
    return request
