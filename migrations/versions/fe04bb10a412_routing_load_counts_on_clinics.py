"""routing load counts on clinics

Revision ID: fe04bb10a412
Revises: 2f53a8e05ba1
Create Date: 2026-11-25 16:30:56.577176

"""
from datetime import UTC, datetime, timedelta

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'fe04bb10a412'
down_revision = '2f53a8e05ba1'
branch_labels = None
depends_on = None

clinics = sa.table("clinics", sa.column("id", sa.Integer), sa.column("week_leads", sa.Integer),
                   sa.column("month_leads", sa.Integer))
assignments = sa.table(
    "assignments",
    sa.column("clinic_id", sa.Integer),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("revoked_at", sa.DateTime(timezone=True)),
)


def _live_since(days):
    return (
        sa.select(sa.func.count())
        .where(
            assignments.c.clinic_id == clinics.c.id,
            assignments.c.revoked_at.is_(None),
            assignments.c.created_at >= datetime.now(UTC) - timedelta(days=days),
        )
        .scalar_subquery()
    )


def upgrade():
    with op.batch_alter_table('clinics', schema=None) as batch_op:
        batch_op.add_column(sa.Column('week_leads', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('month_leads', sa.Integer(), server_default='0', nullable=False))
    # Routing reads these counts from now on: start them from the assignments already made.
    op.execute(clinics.update().values(week_leads=_live_since(7), month_leads=_live_since(30)))
    op.create_index(
        "ix_clinics_routing_order",
        "clinics",
        [sa.text("(weekly_capacity - week_leads) DESC"), "month_leads", "id"],
    )


def downgrade():
    op.drop_index("ix_clinics_routing_order", table_name="clinics")
    with op.batch_alter_table('clinics', schema=None) as batch_op:
        batch_op.drop_column('month_leads')
        batch_op.drop_column('week_leads')
