"""clinic and clinic user languages

Plain ADD/DROP COLUMN, not batch mode: a batch rebuild of `clinics` on SQLite would drop
the expression index `ix_clinics_routing_order`, which SQLite cannot reflect.

Revision ID: e4a28d95826e
Revises: b7e2c4d91a05
Create Date: 2026-12-02 07:14:12.540732

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e4a28d95826e'
down_revision = 'b7e2c4d91a05'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('clinic_users', sa.Column('language', sa.String(length=8), nullable=True))
    op.add_column(
        'clinics', sa.Column('language', sa.String(length=8), server_default='ko', nullable=False)
    )


def downgrade():
    op.drop_column('clinics', 'language')
    op.drop_column('clinic_users', 'language')
