"""lead life cycle: withdrawn status, overruled duplicates, notes and reasons encrypted

Leads whose patient withdrew consent become `withdrawn`; clinics still holding a settled lead
(closed, lost, spam, duplicate, withdrawn) lose it, as the life cycle now does on every
move. Staff notes, decline reasons, quote notes and lost reasons are encrypted under the
app's newest data key like the message; `downgrade` decrypts them. Runs inside the Flask
app (flask db upgrade), which holds the keys.

Revision ID: b7e2c4d91a05
Revises: 8d32516ff999
Create Date: 2026-12-02 07:10:00.000000

"""
from collections.abc import Callable
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa
from flask import current_app


# revision identifiers, used by Alembic.
revision = 'b7e2c4d91a05'
down_revision = '8d32516ff999'
branch_labels = None
depends_on = None

ACTIVE = ("new", "routed", "contacted", "quoted", "booked")
WRITTEN_ABOUT_PATIENTS = {
    "lead_notes": "body",
    "assignments": "decline_reason",
    "quotes": "note",
    "leads": "lost_reason",
}
_leads = sa.table("leads", sa.column("id"))
_assignments = sa.table(
    "assignments", sa.column("id"), sa.column("lead_id"), sa.column("revoked_at")
)


def _each_value(change: Callable[[str], str]) -> None:
    bind = op.get_bind()
    for name, column in WRITTEN_ABOUT_PATIENTS.items():
        rows_of = sa.table(name, sa.column("id"), sa.column(column))
        for row_id, value in bind.execute(
            sa.select(rows_of.c.id, rows_of.c[column]).where(rows_of.c[column] != "")
        ).all():
            bind.execute(
                rows_of.update().where(rows_of.c.id == row_id).values({column: change(value)})
            )


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        # A new enum value must be committed before a statement may use it.
        with op.get_context().autocommit_block():
            op.execute("ALTER TYPE lead_status ADD VALUE IF NOT EXISTS 'withdrawn'")
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('dedup_overruled', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    # Literals, not bound parameters: PostgreSQL compares its enum type with text literals.
    active = ", ".join(f"'{status}'" for status in ACTIVE)
    op.execute(
        f"UPDATE leads SET status = 'withdrawn' "
        f"WHERE consent_withdrawn_at IS NOT NULL AND status IN ({active})"
    )
    op.execute(
        _assignments.update()
        .where(
            _assignments.c.revoked_at.is_(None),
            _assignments.c.lead_id.in_(
                sa.select(_leads.c.id).where(sa.text(f"leads.status NOT IN ({active})"))
            ),
        )
        .values(revoked_at=datetime.now(UTC))
    )
    _each_value(current_app.extensions["data_keys"].encrypt_text)


def downgrade():
    _each_value(current_app.extensions["data_keys"].decrypt_text)
    # PostgreSQL cannot drop an enum value; the earlier schema reads withdrawn as closed.
    op.execute("UPDATE leads SET status = 'closed' WHERE status = 'withdrawn'")
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_column('dedup_overruled')
