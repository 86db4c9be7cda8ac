"""Re-encrypting every lead, what was written about it, and its attachment under the newest
data key.

Resumable by construction: whatever is already under the newest key is skipped, and each
batch commits, so a rotation stopped half way (a deploy, a crash) continues where it was
when run again. Only after it reports nothing left may the old key leave `DATA_KEYS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, Row, String, TableClause, Text, column, select, table

from app.encryption import data_keys
from app.models import LeadAttachment
from app.models.base import DbSession
from app.services.privacy import attachments

# The raw columns, without the EncryptedText type: the tokens themselves. Every column the
# models declare as EncryptedText is here; the lead's phone also has its blind index.
_leads = table(
    "leads",
    column("id", Integer),
    column("phone", Text),
    column("message", Text),
    column("lost_reason", Text),
    column("phone_digest", String),
)
_WRITTEN_ABOUT_PATIENTS = (
    table("lead_notes", column("id", Integer), column("body", Text)),
    table("assignments", column("id", Integer), column("decline_reason", Text)),
    table("quotes", column("id", Integer), column("note", Text)),
    table("lead_messages", column("id", Integer), column("body", Text)),
    table("staff_messages", column("id", Integer), column("body", Text)),
    table("webhook_subscriptions", column("id", Integer), column("secret", Text)),
)


@dataclass
class Rotated:
    leads: int = 0
    files: int = 0
    # Notes, decline reasons, quote notes, messages and webhook secrets.
    records: int = 0


def _rotate_table(
    session: DbSession,
    rows_of: TableClause,
    batch: int,
    count: Callable[[], None],
    also: Callable[[Row[Any]], dict[str, Any]] = lambda row: {},
) -> None:
    """Re-encrypt each row holding a token under an older key, a batch per commit."""
    keys = data_keys()
    tokens = [c for c in rows_of.c if c.name != "id" and isinstance(c.type, Text)]
    last = 0
    while True:
        rows = session.execute(
            select(rows_of).where(rows_of.c.id > last).order_by(rows_of.c.id).limit(batch)
        ).all()
        if not rows:
            return
        for row in rows:
            values = {c.name: getattr(row, c.name) for c in tokens}
            if all(not value or keys.is_current(value.encode()) for value in values.values()):
                continue
            rotated = {
                name: keys.rotate(value.encode()).decode() if value else value
                for name, value in values.items()
            }
            session.execute(
                rows_of.update().where(rows_of.c.id == row.id).values(**rotated, **also(row))
            )
            count()
        session.commit()
        last = rows[-1].id


def rotate_keys(
    session: DbSession,
    upload_dir: str,
    batch: int = 500,
    progress: Callable[[Rotated], None] = lambda _: None,
) -> Rotated:
    done = Rotated()
    keys = data_keys()

    def count_lead() -> None:
        done.leads += 1
        if done.leads % batch == 0:
            progress(done)

    def count_record() -> None:
        done.records += 1

    _rotate_table(
        session,
        _leads,
        batch,
        count_lead,
        also=lambda row: {
            "phone_digest": keys.digest(keys.decrypt_text(row.phone)) if row.phone else None
        },
    )
    for rows_of in _WRITTEN_ABOUT_PATIENTS:
        _rotate_table(session, rows_of, batch, count_record)
    for stored_name in session.scalars(select(LeadAttachment.stored_name)):
        if attachments.path_of(upload_dir, stored_name).exists() and attachments.rotate(
            upload_dir, stored_name
        ):
            done.files += 1
    progress(done)
    return done
