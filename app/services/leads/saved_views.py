"""Saved views of the console's list: a staff member's filters, sort and page size under a
name, kept for themselves or shared with the team. A private view is its owner's alone:
to anyone else it does not exist."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from app.models import SavedView, StaffUser
from app.models.base import DbSession
from app.services import audit

NAME_MAX = 60
QUERY_MAX = 2000


class ViewRefused(ValueError):
    """A name or a query that cannot be saved; the message says why."""


def visible_views(session: DbSession, staff_id: int) -> list[SavedView]:
    """The viewer's own views and every shared one (the tabs above the list)."""
    return list(
        session.scalars(
            select(SavedView)
            .where(or_(SavedView.owner_id == staff_id, SavedView.shared.is_(True)))
            .order_by(SavedView.owner_id != staff_id, SavedView.name, SavedView.id)
        )
    )


def save_view(session: DbSession, staff_id: int, name: str, query: str, shared: bool) -> SavedView:
    """Save the list's query string under `name`; saving again under the same name replaces
    the owner's earlier view of that name."""
    staff = session.get(StaffUser, staff_id)
    if staff is None:
        raise LookupError("no such staff member")
    cleaned = " ".join(name.split())
    if not cleaned:
        raise ViewRefused(_l("Please give the view a name."))
    if len(cleaned) > NAME_MAX:
        raise ViewRefused(_l("A view's name is at most %(num)d characters.", num=NAME_MAX))
    if len(query) > QUERY_MAX:
        raise ViewRefused(_l("These filters are too long to save."))
    view = session.scalar(
        select(SavedView).where(SavedView.owner_id == staff_id, SavedView.name == cleaned)
    )
    if view is None:
        view = SavedView(owner_id=staff_id, name=cleaned)
        session.add(view)
    view.query = query
    view.shared = shared
    session.flush()
    audit.record(
        session,
        audit.Actor.staff(staff),
        "saved_view.saved",
        saved_view=view.id,
        changes={"name": cleaned, "query": query, "shared": shared},
    )
    session.commit()
    return view


def delete_view(session: DbSession, staff_id: int, view_id: int) -> str:
    """Only the owner deletes a view; anyone else is told there is no such view."""
    view = session.get(SavedView, view_id)
    if view is None or view.owner_id != staff_id:
        raise LookupError("no such view")
    name = view.name
    session.delete(view)
    audit.record(
        session,
        audit.Actor.staff(session.get_one(StaffUser, staff_id)),
        "saved_view.deleted",
        saved_view=view_id,
        changes={"name": name},
    )
    session.commit()
    return name
