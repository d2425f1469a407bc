"""policy loads

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 11:43:56.626193
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "policy_loads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["policy_versions.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("policy_loads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_policy_loads_loaded_at"), ["loaded_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("policy_loads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_policy_loads_loaded_at"))

    op.drop_table("policy_loads")
