"""API keys: made, shown once, checked on each request, revoked.

A key reads `cr_<prefix>_<secret>`. The prefix finds the row (and names the key in lists and
logs); only the secret's SHA-256 is stored, compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from app.models import ApiKey, ClinicStatus
from app.models.base import DbSession, utcnow
from app.services import audit

# What a key may do. A partner's key sends inquiries; staff and clinic keys read leads.
INQUIRIES_WRITE = "inquiries:write"
LEADS_READ = "leads:read"
LEADS_WRITE = "leads:write"
CLINIC_LEADS = "clinic:leads"
WEBHOOKS = "webhooks"
PARTNER_SCOPES = (INQUIRIES_WRITE, WEBHOOKS)
STAFF_SCOPES = (INQUIRIES_WRITE, LEADS_READ, LEADS_WRITE)
CLINIC_SCOPES = (CLINIC_LEADS, WEBHOOKS)
# `last_used_at` is for people deciding which key to revoke: minutes are precise enough, and
# a busy key then writes once a minute, not on every request.
LAST_USED_PRECISION = timedelta(minutes=1)


@dataclass(frozen=True)
class Owner:
    """Whose key it is: exactly one of a partner, a clinic or a staff member. Every list,
    creation and revocation names its owner, so no page reaches another owner's keys."""

    partner_id: int | None = None
    clinic_id: int | None = None
    staff_user_id: int | None = None

    def __post_init__(self) -> None:
        if sum(value is not None for value in asdict(self).values()) != 1:
            raise ValueError("a key has exactly one owner")

    def holds(self) -> Any:
        """The condition on `ApiKey` rows that are this owner's."""
        [(column, value)] = [(c, v) for c, v in asdict(self).items() if v is not None]
        return getattr(ApiKey, column) == value


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    secret: str  # the whole key, to show once


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(
    session: DbSession,
    name: str,
    scopes: tuple[str, ...],
    actor: audit.Actor,
    owner: Owner,
) -> NewKey:
    prefix, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    key = ApiKey(
        prefix=prefix,
        secret_hash=_digest(secret),
        name=name.strip(),
        scopes=list(scopes),
        **asdict(owner),
    )
    session.add(key)
    session.flush()
    audit.record(session, actor, "api_key.created", api_key=key.id, changes={"scopes": key.scopes})
    session.commit()
    return NewKey(key=key, secret=f"cr_{prefix}_{secret}")


def authenticate(session: DbSession, presented: str, now: datetime | None = None) -> ApiKey | None:
    """The live key `presented` is, or None (unknown, malformed, revoked, or an owner that
    can no longer act: a deactivated staff member, a clinic that is not approved)."""
    kind, _, rest = presented.partition("_")
    prefix, _, secret = rest.partition("_")
    if kind != "cr" or not prefix or not secret:
        return None
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if key is None or not hmac.compare_digest(key.secret_hash, _digest(secret)):
        return None
    if key.revoked_at is not None or not _owner_may_act(key):
        return None
    now = now or utcnow()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_PRECISION:
        session.execute(update(ApiKey).where(ApiKey.id == key.id).values(last_used_at=now))
        session.commit()
    return key


def _owner_may_act(key: ApiKey) -> bool:
    if key.staff_user is not None:
        return key.staff_user.active
    if key.clinic is not None:
        return key.clinic.status is ClinicStatus.APPROVED
    return key.partner is not None


def live_keys(session: DbSession, owner: Owner) -> list[ApiKey]:
    """The owner's keys that still work, newest first: what its keys page lists (a revoked
    key stays in the audit trail, not on the page)."""
    return list(
        session.scalars(
            select(ApiKey)
            .where(owner.holds(), ApiKey.revoked_at.is_(None))
            .order_by(ApiKey.id.desc())
        )
    )


def revoke(session: DbSession, key_id: int, actor: audit.Actor, owner: Owner) -> None:
    """Another owner's key is "no such key", so a page cannot be used to probe for them."""
    key = session.scalar(select(ApiKey).where(ApiKey.id == key_id, owner.holds()))
    if key is None:
        raise LookupError("no such key")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        audit.record(session, actor, "api_key.revoked", api_key=key.id)
    session.commit()
