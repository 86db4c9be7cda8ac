"""staff messages to the patient and staff's first-response clock: when a lead is due its
first word from staff, when staff answered, and a partial index for the "overdue" filter

Revision ID: 5d3c8e1a7b20
Revises: 7ef9b3836a48
Create Date: 2026-12-02 13:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '5d3c8e1a7b20'
down_revision = '7ef9b3836a48'
branch_labels = None
depends_on = None

# Leads before this revision have no clock (staff_due_at stays NULL): none becomes overdue
# at once on deploy.
AWAITING_STAFF = sa.text(
    "staff_responded_at IS NULL AND staff_due_at IS NOT NULL"
    " AND status IN ('new', 'routed', 'contacted', 'quoted', 'booked')"
)


def upgrade():
    op.add_column('leads', sa.Column('staff_due_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        'leads', sa.Column('staff_responded_at', sa.DateTime(timezone=True), nullable=True)
    )
    op.create_index(
        'ix_leads_awaiting_staff_created',
        'leads',
        ['created_at', 'id'],
        postgresql_include=['status', 'staff_due_at'],
        postgresql_where=AWAITING_STAFF,
        sqlite_where=AWAITING_STAFF,
    )
    op.create_table(
        'staff_messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('lead_id', sa.Integer(), nullable=False),
        sa.Column('staff_user_id', sa.Integer(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('submission_id', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_staff_messages_lead_id_leads'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['staff_user_id'], ['staff_users.id'], name=op.f('fk_staff_messages_staff_user_id_staff_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_messages')),
        sa.UniqueConstraint('submission_id', name=op.f('uq_staff_messages_submission_id')),
    )
    op.create_index(op.f('ix_staff_messages_lead_id'), 'staff_messages', ['lead_id'])


def downgrade():
    op.drop_index(op.f('ix_staff_messages_lead_id'), table_name='staff_messages')
    op.drop_table('staff_messages')
    op.drop_index('ix_leads_awaiting_staff_created', table_name='leads')
    op.drop_column('leads', 'staff_responded_at')
    op.drop_column('leads', 'staff_due_at')
