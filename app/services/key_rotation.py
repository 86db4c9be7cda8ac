"""Re-encrypting every lead and attachment under the newest data key.

Resumable by construction: whatever is already under the newest key is skipped, and each
batch commits, so a rotation stopped half way (a deploy, a crash) continues where it was
when run again. Only after it reports nothing left may the old key leave `DATA_KEYS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Integer, String, Text, column, select, table
from sqlalchemy.orm import Session

from app.encryption import data_keys
from app.models import LeadAttachment
from app.services import attachments

# The raw columns, without the EncryptedText type: the tokens themselves.
_leads = table(
    "leads",
    column("id", Integer),
    column("phone", Text),
    column("message", Text),
    column("phone_digest", String),
)


@dataclass
class Rotated:
    leads: int = 0
    files: int = 0


def _rotate_leads(
    session: Session, batch: int, progress: Callable[[Rotated], None], done: Rotated
) -> None:
    keys = data_keys()
    last = 0
    while True:
        rows = session.execute(
            select(_leads.c.id, _leads.c.phone, _leads.c.message)
            .where(_leads.c.id > last)
            .order_by(_leads.c.id)
            .limit(batch)
        ).all()
        if not rows:
            return
        for row in rows:
            stale = [
                value
                for value in (row.phone, row.message)
                if value and not keys.is_current(value.encode())
            ]
            if not stale:
                continue
            phone = keys.decrypt_text(row.phone) if row.phone else ""
            session.execute(
                _leads.update()
                .where(_leads.c.id == row.id)
                .values(
                    phone=keys.rotate(row.phone.encode()).decode() if row.phone else row.phone,
                    message=keys.rotate(row.message.encode()).decode()
                    if row.message
                    else row.message,
                    phone_digest=keys.digest(phone) if phone else None,
                )
            )
            done.leads += 1
        session.commit()
        last = rows[-1].id
        progress(done)


def rotate_keys(
    session: Session,
    upload_dir: str,
    batch: int = 500,
    progress: Callable[[Rotated], None] = lambda _: None,
) -> Rotated:
    done = Rotated()
    _rotate_leads(session, batch, progress, done)
    for stored_name in session.scalars(select(LeadAttachment.stored_name)):
        if attachments.path_of(upload_dir, stored_name).exists() and attachments.rotate(
            upload_dir, stored_name
        ):
            done.files += 1
    progress(done)
    return done
