"""name prefix search index

Revision ID: 805132b34de4
Revises: 399f3b0169fa
Create Date: 2026-11-25 12:47:38.066101

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy import Text


# revision identifiers, used by Alembic.
revision = '805132b34de4'
down_revision = '399f3b0169fa'
branch_labels = None
depends_on = None


def upgrade():
    # The console's name search matches a prefix of lower(full_name); on PostgreSQL this
    # index serves it (text_pattern_ops makes LIKE 'abc%' indexable under any collation).
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_leads_name_prefix ON leads (lower(full_name) text_pattern_ops)")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_leads_name_prefix")
