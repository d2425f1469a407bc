"""notifications: an index on (state, deadline), for the engine's deadline queries
(`next_due` on every wake-up, `deadline_passed` and the claims of expired leases,
unknown sends and cancellations), which otherwise read every row in those states

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 03:40:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_notifications_deadline", "notifications", ["state", "deadline"])


def downgrade() -> None:
    op.drop_index("ix_notifications_deadline", table_name="notifications")
