"""Tags staff put on leads to sort their work ("vip", "callback"): one word is one tag, however
it was typed, and every tag added or removed is an audit event."""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.models import Lead, LeadTag, StaffUser, Tag
from app.models.base import DbSession
from app.models.triage import TAG_NAME_MAX
from app.services import audit


class TagRefused(ValueError):
    """A name that cannot be a tag; the message says why, translated where it is shown."""


def normalise(name: str) -> str:
    """Trimmed, inner spaces collapsed, lower-case: "  VIP " and "vip" are one tag."""
    cleaned = " ".join(name.split()).lower()
    if not cleaned:
        raise TagRefused(_l("a tag needs a name"))
    if len(cleaned) > TAG_NAME_MAX:
        raise TagRefused(_l("a tag is at most %(num)d characters", num=TAG_NAME_MAX))
    return cleaned


def all_tags(session: DbSession) -> list[Tag]:
    """The tags in use, by name (the list's filter)."""
    return list(session.scalars(select(Tag).order_by(Tag.name)))


def _tag_named(session: DbSession, name: str) -> Tag:
    """The tag of that name, made the first time; two staff making it at once get one."""
    tag = session.scalar(select(Tag).where(Tag.name == name))
    if tag is not None:
        return tag
    try:
        with session.begin_nested():
            tag = Tag(name=name)
            session.add(tag)
    except IntegrityError:
        tag = session.scalars(select(Tag).where(Tag.name == name)).one()
    return tag


def _actor(session: DbSession, staff_id: int) -> audit.Actor:
    staff = session.get(StaffUser, staff_id)
    if staff is None:
        raise LookupError("no such staff member")
    return audit.Actor.staff(staff)


def add_to_leads(session: DbSession, lead_ids: Sequence[int], staff_id: int, name: str) -> int:
    """Tag every lead (a lead that has the tag already keeps it); how many leads were tagged."""
    tag_name = normalise(name)
    actor = _actor(session, staff_id)
    wanted = set(lead_ids)
    # Locked, so the sort keys copied onto the tag are the lead's until this commits (the
    # trigger keeps them in step after that).
    found = {
        lead_id: (created, updated)
        for lead_id, created, updated in session.execute(
            select(Lead.id, Lead.created_at, Lead.updated_at)
            .where(Lead.id.in_(wanted))
            .with_for_update()
        )
    }
    if set(found) != wanted:
        raise LookupError("no such lead")
    tag = _tag_named(session, tag_name)
    have = set(
        session.scalars(
            select(LeadTag.lead_id).where(LeadTag.tag_id == tag.id, LeadTag.lead_id.in_(wanted))
        )
    )
    for lead_id in sorted(wanted - have):
        created, updated = found[lead_id]
        session.add(
            LeadTag(
                lead_id=lead_id, tag_id=tag.id, lead_created_at=created, lead_updated_at=updated
            )
        )
        audit.record(session, actor, "lead.tag_added", lead=lead_id, changes={"tag": tag.name})
    session.commit()
    return len(wanted - have)


def add_tag(session: DbSession, lead_id: int, staff_id: int, name: str) -> int:
    return add_to_leads(session, [lead_id], staff_id, name)


def remove_tag(session: DbSession, lead_id: int, staff_id: int, tag_id: int) -> None:
    link = session.get(LeadTag, (lead_id, tag_id))
    if link is None:
        raise LookupError("the lead has no such tag")
    name = session.get_one(Tag, tag_id).name
    session.delete(link)
    audit.record(
        session, _actor(session, staff_id), "lead.tag_removed", lead=lead_id, changes={"tag": name}
    )
    session.commit()
