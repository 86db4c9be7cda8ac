"""the patient's side: threads, documents added later, a choice, booking, itemised quotes,
consent before a further clinic

Plain ADD COLUMN on leads and assignments (a batch rebuild of `leads` on SQLite would
drop its partial indexes); only `lead_attachments` is rebuilt, to lose its one-per-lead
unique constraint.

Revision ID: c5a17e3f9b42
Revises: e4a28d95826e
Create Date: 2026-12-02 10:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = 'c5a17e3f9b42'
down_revision = 'e4a28d95826e'
branch_labels = None
depends_on = None


ATTACHMENT_KIND = sa.Enum('medical', 'visa_letter', name='attachment_kind', length=20)


def upgrade():
    ATTACHMENT_KIND.create(op.get_bind(), checkfirst=True)
    op.add_column('leads', sa.Column('visa_letter_requested_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('leads', sa.Column('treatment_date', sa.Date(), nullable=True))
    for column in ('consent_requested_at', 'shared_at', 'chosen_at', 'confirmed_at'):
        op.add_column('assignments', sa.Column(column, sa.DateTime(timezone=True), nullable=True))
    op.add_column('assignments', sa.Column('revoked_reason', sa.String(length=40), nullable=True))
    op.add_column('quotes', sa.Column('items', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), server_default=sa.text("'{}'"), nullable=False))
    with op.batch_alter_table('lead_attachments') as batch_op:
        batch_op.drop_constraint('uq_lead_attachments_lead_id', type_='unique')
        batch_op.add_column(
            sa.Column('kind', ATTACHMENT_KIND, server_default='medical', nullable=False)
        )
        batch_op.add_column(sa.Column('clinic_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_lead_attachments_clinic_id_clinics'), 'clinics', ['clinic_id'], ['id']
        )
        batch_op.create_index(batch_op.f('ix_lead_attachments_lead_id'), ['lead_id'])
    op.create_table(
        'lead_messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('lead_id', sa.Integer(), nullable=False),
        sa.Column('assignment_id', sa.Integer(), nullable=False),
        sa.Column('sender', sa.Enum('patient', 'clinic', name='message_sender', length=20), nullable=False),
        sa.Column('clinic_user_id', sa.Integer(), nullable=True),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('noticed', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['assignment_id'], ['assignments.id'], name=op.f('fk_lead_messages_assignment_id_assignments'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['clinic_user_id'], ['clinic_users.id'], name=op.f('fk_lead_messages_clinic_user_id_clinic_users'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_lead_messages_lead_id_leads'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_lead_messages')),
    )
    op.create_index(op.f('ix_lead_messages_assignment_id'), 'lead_messages', ['assignment_id'])
    op.create_index(op.f('ix_lead_messages_lead_id'), 'lead_messages', ['lead_id'])


def downgrade():
    op.drop_index(op.f('ix_lead_messages_lead_id'), table_name='lead_messages')
    op.drop_index(op.f('ix_lead_messages_assignment_id'), table_name='lead_messages')
    op.drop_table('lead_messages')
    sa.Enum(name='message_sender').drop(op.get_bind(), checkfirst=True)
    with op.batch_alter_table('lead_attachments') as batch_op:
        batch_op.drop_index(batch_op.f('ix_lead_attachments_lead_id'))
        batch_op.drop_constraint(
            batch_op.f('fk_lead_attachments_clinic_id_clinics'), type_='foreignkey'
        )
        batch_op.drop_column('clinic_id')
        batch_op.drop_column('kind')
        batch_op.create_unique_constraint('uq_lead_attachments_lead_id', ['lead_id'])
    ATTACHMENT_KIND.drop(op.get_bind(), checkfirst=True)
    op.drop_column('quotes', 'items')
    op.drop_column('assignments', 'revoked_reason')
    for column in ('confirmed_at', 'chosen_at', 'shared_at', 'consent_requested_at'):
        op.drop_column('assignments', column)
    op.drop_column('leads', 'treatment_date')
    op.drop_column('leads', 'visa_letter_requested_at')
