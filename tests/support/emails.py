"""The outbox's emails as the worker renders them, and the links in them."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.models import OutboundEmail
from app.services.mail.messages import RenderedEmail, render


def rendered(email: OutboundEmail) -> RenderedEmail:
    """An outbox row rendered as the worker would send it."""
    return render(db.session, email.template, email.context, email.language)


def links_in(template: str, recipient: str | None = None) -> list[str]:
    """Every link in the rendered text of the outbox emails made from `template`."""
    query = select(OutboundEmail).where(OutboundEmail.template == template)
    if recipient:
        query = query.where(OutboundEmail.recipient == recipient)
    links: list[str] = []
    for email in db.session.scalars(query.order_by(OutboundEmail.id)):
        links += re.findall(r"https?://\S+", rendered(email).text)
    return links


def path_of(url: str) -> str:
    """The link without its scheme and host, as a test client requests it."""
    return re.sub(r"^https?://[^/]+", "", url)
