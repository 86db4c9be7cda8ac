"""tags carry their lead's sort keys: the list filtered by a tag reads the tag's leads
newest first (or by latest activity) from the tag's own index; a trigger keeps the copy of
the lead's updated_at in step

Revision ID: 3a9e5c7d1f42
Revises: bc1fbb7a2633
Create Date: 2026-12-02 19:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# As app/models/triage.py has them today; a migration keeps its own copy. On SQLite a later
# batch migration that rebuilds `leads` drops this trigger and must create it again.
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

# revision identifiers, used by Alembic.
revision = '3a9e5c7d1f42'
down_revision = 'bc1fbb7a2633'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('lead_tags', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lead_created_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('lead_updated_at', sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE lead_tags SET"
        " lead_created_at = (SELECT created_at FROM leads WHERE leads.id = lead_tags.lead_id),"
        " lead_updated_at = (SELECT updated_at FROM leads WHERE leads.id = lead_tags.lead_id)"
    )
    with op.batch_alter_table('lead_tags', schema=None) as batch_op:
        batch_op.alter_column('lead_created_at', nullable=False)
        batch_op.alter_column('lead_updated_at', nullable=False)
        batch_op.drop_index('ix_lead_tags_tag_lead')
        batch_op.create_index('ix_lead_tags_tag_created', ['tag_id', 'lead_created_at', 'lead_id'], unique=False)
        batch_op.create_index('ix_lead_tags_tag_updated', ['tag_id', 'lead_updated_at', 'lead_id'], unique=False)
    for statement in LEAD_TAGS_FOLLOW_LEADS.get(op.get_bind().dialect.name, ()):
        op.execute(statement)


def downgrade():
    op.execute("DROP TRIGGER IF EXISTS lead_tags_follow_lead" + (" ON leads" if op.get_bind().dialect.name == "postgresql" else ""))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS lead_tags_follow_lead()")
    with op.batch_alter_table('lead_tags', schema=None) as batch_op:
        batch_op.drop_index('ix_lead_tags_tag_updated')
        batch_op.drop_index('ix_lead_tags_tag_created')
        batch_op.create_index('ix_lead_tags_tag_lead', ['tag_id', 'lead_id'], unique=False)
        batch_op.drop_column('lead_updated_at')
        batch_op.drop_column('lead_created_at')
