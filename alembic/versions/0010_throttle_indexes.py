"""notifications: the throttle's indexes, (person_id, channel, sent_at) in place of
(person_id), and (person_id, channel, state): its read of one person's window was
a scan of every row the person was ever sent

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 22:15:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_notifications_person_sent", "notifications", ["person_id", "channel", "sent_at"]
    )
    op.create_index(
        "ix_notifications_person_state", "notifications", ["person_id", "channel", "state"]
    )
    op.drop_index("ix_notifications_person_id", table_name="notifications")


def downgrade() -> None:
    op.create_index("ix_notifications_person_id", "notifications", ["person_id"])
    op.drop_index("ix_notifications_person_state", table_name="notifications")
    op.drop_index("ix_notifications_person_sent", table_name="notifications")
