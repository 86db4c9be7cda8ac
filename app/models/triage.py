"""How staff organise their day: tags on leads and saved views of the console's list."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Connection,
    ForeignKey,
    Index,
    String,
    Table,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.models.base import UTCDateTime, utcnow

TAG_NAME_MAX = 40


class Tag(Model):
    """A word staff put on leads ("vip", "callback"); stored trimmed and lower-case, so one
    word is one tag however it was typed."""

    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(TAG_NAME_MAX), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Tag {self.name}>"


class LeadTag(Model):
    """A tag on a lead, with the lead's own sort keys beside it.

    The list filtered by a tag reads the tag's leads in the list's order straight from
    (tag_id, lead_created_at) or (tag_id, lead_updated_at): walking every lead newest first
    to find the one in a hundred that carries the tag took 60-250 ms at a million leads.
    `lead_created_at` never changes; `lead_updated_at` follows the lead's `updated_at`
    through a database trigger (`LEAD_TAGS_FOLLOW_LEADS`), so no code path can forget it.
    """

    __tablename__ = "lead_tags"
    __table_args__ = (
        Index("ix_lead_tags_tag_created", "tag_id", "lead_created_at", "lead_id"),
        Index("ix_lead_tags_tag_updated", "tag_id", "lead_updated_at", "lead_id"),
    )

    lead_id: Mapped[int] = mapped_column(
        ForeignKey("leads.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lead_created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lead_updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


# The trigger that keeps `lead_tags.lead_updated_at` equal to its lead's `updated_at`, per
# dialect (the migration creates it; `create_all` too, for tests on SQLite).
LEAD_TAGS_FOLLOW_LEADS = {
    "postgresql": (
        """
        CREATE OR REPLACE FUNCTION lead_tags_follow_lead() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE lead_tags SET lead_updated_at = NEW.updated_at WHERE lead_id = NEW.id;
            RETURN NULL;
        END $$
        """,
        """
        CREATE OR REPLACE TRIGGER lead_tags_follow_lead AFTER UPDATE OF updated_at ON leads
        FOR EACH ROW WHEN (OLD.updated_at IS DISTINCT FROM NEW.updated_at)
        EXECUTE FUNCTION lead_tags_follow_lead()
        """,
    ),
    "sqlite": (
        """
        CREATE TRIGGER lead_tags_follow_lead AFTER UPDATE OF updated_at ON leads
        FOR EACH ROW WHEN OLD.updated_at IS NOT NEW.updated_at
        BEGIN
            UPDATE lead_tags SET lead_updated_at = NEW.updated_at WHERE lead_id = NEW.id;
        END
        """,
    ),
}


def _create_trigger(target: Table, connection: Connection, **_: Any) -> None:
    for statement in LEAD_TAGS_FOLLOW_LEADS.get(connection.dialect.name, ()):
        connection.exec_driver_sql(statement)


event.listen(LeadTag.__table__, "after_create", _create_trigger)


class SavedView(Model):
    """A named query string of the list (filters, sort, page size): its owner's tab, and
    everyone's when shared."""

    __tablename__ = "saved_views"
    __table_args__ = (UniqueConstraint("owner_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    owner_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"))
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    query: Mapped[str] = mapped_column(String(2000), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<SavedView {self.name}>"
