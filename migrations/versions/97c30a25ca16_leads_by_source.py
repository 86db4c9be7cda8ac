"""leads by source: the console filters by where a lead came from (our form, an API key,
any partner or one partner), newest first, like every other filter

Revision ID: 97c30a25ca16
Revises: 82504b02cf15
Create Date: 2026-12-02 12:18:42.037032

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '97c30a25ca16'
down_revision = '82504b02cf15'
branch_labels = None
depends_on = None

PARTNER_ONLY = sa.text("partner_id IS NOT NULL")


def upgrade():
    op.create_index("ix_leads_source_created", "leads", ["source", "created_at", "id"])
    op.create_index(
        "ix_leads_partner_created",
        "leads",
        ["partner_id", "created_at", "id"],
        postgresql_where=PARTNER_ONLY,
        sqlite_where=PARTNER_ONLY,
    )


def downgrade():
    op.drop_index("ix_leads_partner_created", table_name="leads")
    op.drop_index("ix_leads_source_created", table_name="leads")
