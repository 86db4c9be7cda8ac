"""assignment rules and staff on duty: new leads go to a staff member by language and
procedure, round-robin among those on duty

Revision ID: 7ef9b3836a48
Revises: 97c30a25ca16
Create Date: 2026-12-02 12:31:15.169686

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '7ef9b3836a48'
down_revision = '97c30a25ca16'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "assignment_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("procedure_id", sa.Integer(), nullable=True),
        sa.Column("leave_to_pick", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["procedure_id"],
            ["procedures.id"],
            name=op.f("fk_assignment_rules_procedure_id_procedures"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment_rules")),
    )
    op.create_table(
        "assignment_rule_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), nullable=False),
        sa.Column("last_assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["assignment_rules.id"],
            name=op.f("fk_assignment_rule_members_rule_id_assignment_rules"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_user_id"],
            ["staff_users.id"],
            name=op.f("fk_assignment_rule_members_staff_user_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment_rule_members")),
        sa.UniqueConstraint(
            "rule_id",
            "staff_user_id",
            name=op.f("uq_assignment_rule_members_rule_id_staff_user_id"),
        ),
    )
    op.add_column(
        "staff_users",
        sa.Column("on_duty", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade():
    with op.batch_alter_table("staff_users") as batch_op:
        batch_op.drop_column("on_duty")
    op.drop_table("assignment_rule_members")
    op.drop_table("assignment_rules")
