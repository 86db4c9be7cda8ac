"""partial index per lead flag

Revision ID: 8d32516ff999
Revises: fe04bb10a412
Create Date: 2026-11-25 17:14:25.586343

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8d32516ff999'
down_revision = 'fe04bb10a412'
branch_labels = None
depends_on = None

FLAGS = ("no_matching_clinic", "clinic_silent", "processing_failed")


def upgrade():
    # A B-tree on a boolean served no console query well: the "no matching clinic" tab counts
    # read every flagged lead's row (95 ms at a million leads). One partial index per flag in
    # the console's order, carrying the status, serves the page and its counts.
    with op.batch_alter_table('leads', schema=None) as batch_op:
        for flag in FLAGS:
            batch_op.drop_index(f"ix_leads_{flag}")
            batch_op.create_index(
                f"ix_leads_{flag}_created",
                ["created_at", "id"],
                unique=False,
                postgresql_include=["status"],
                postgresql_where=sa.text(f"{flag} IS TRUE"),
                sqlite_where=sa.text(f"{flag} IS TRUE"),
            )


def downgrade():
    with op.batch_alter_table('leads', schema=None) as batch_op:
        for flag in FLAGS:
            batch_op.drop_index(f"ix_leads_{flag}_created")
            batch_op.create_index(f"ix_leads_{flag}", [flag], unique=False)
