"""partners and api keys: partner sites, keys for partners, clinics and staff, and where
each lead came from

Revision ID: c0c9530479f6
Revises: c5a17e3f9b42
Create Date: 2026-12-02 10:16:14.209569

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = 'c0c9530479f6'
down_revision = 'c5a17e3f9b42'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('partners',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('origins', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partners')),
    sa.UniqueConstraint('public_id', name=op.f('uq_partners_public_id'))
    )
    op.create_table('api_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('scopes', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=True),
    sa.Column('clinic_id', sa.Integer(), nullable=True),
    sa.Column('staff_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_api_keys_clinic_id_clinics')),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_api_keys_partner_id_partners')),
    sa.ForeignKeyConstraint(['staff_user_id'], ['staff_users.id'], name=op.f('fk_api_keys_staff_user_id_staff_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('prefix', name=op.f('uq_api_keys_prefix'))
    )
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_keys_clinic_id'), ['clinic_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_api_keys_partner_id'), ['partner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_api_keys_staff_user_id'), ['staff_user_id'], unique=False)

    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('partner_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('api_key_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_leads_api_key_id_api_keys'), 'api_keys', ['api_key_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_leads_partner_id_partners'), 'partners', ['partner_id'], ['id'])

def downgrade():
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_leads_partner_id_partners'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_leads_api_key_id_api_keys'), type_='foreignkey')
        batch_op.drop_column('api_key_id')
        batch_op.drop_column('partner_id')

    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_keys_staff_user_id'))
        batch_op.drop_index(batch_op.f('ix_api_keys_partner_id'))
        batch_op.drop_index(batch_op.f('ix_api_keys_clinic_id'))

    op.drop_table('api_keys')
    op.drop_table('partners')
