"""Partner sites: registered with the origins that may frame the embedded form, and given
their first key."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select

from app.models import ApiKey, Partner
from app.models.base import DbSession
from app.services import audit
from app.services.integrations import keys


class OriginRefused(ValueError):
    """An origin is a scheme and a host (and port), nothing more: https://blog.example."""


def origin_of(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.path not in ("", "/"):
        raise OriginRefused(url)
    if parts.query or parts.fragment or parts.username or parts.password:
        raise OriginRefused(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}"


def partner_by_public_id(session: DbSession, public_id: str) -> Partner | None:
    return session.scalar(select(Partner).where(Partner.public_id == public_id))


def all_partners(session: DbSession) -> list[Partner]:
    return list(session.scalars(select(Partner).order_by(Partner.name, Partner.id)))


def create_partner(
    session: DbSession, name: str, origins: list[str], actor: audit.Actor
) -> tuple[Partner, keys.NewKey]:
    partner = Partner(
        public_id=secrets.token_urlsafe(9),
        name=name.strip(),
        origins=sorted({origin_of(o) for o in origins}),
    )
    session.add(partner)
    session.flush()
    audit.record(session, actor, "partner.created", partner=partner.id)
    return partner, add_key(session, partner.id, f"{partner.name} (first key)", actor)


def add_key(session: DbSession, partner_id: int, name: str, actor: audit.Actor) -> keys.NewKey:
    """A partner's key only sends inquiries, whoever makes it."""
    if session.get(Partner, partner_id) is None:
        raise LookupError("no such partner")
    return keys.create_key(
        session, name, keys.PARTNER_SCOPES, actor, keys.Owner(partner_id=partner_id)
    )


@dataclass(frozen=True)
class PartnerKeys:
    partner: Partner
    keys: list[ApiKey]


def partners_with_keys(session: DbSession) -> list[PartnerKeys]:
    """Every partner by name with its live keys: the console's partners page."""
    return [
        PartnerKeys(partner, keys.live_keys(session, keys.Owner(partner_id=partner.id)))
        for partner in all_partners(session)
    ]
