"""incidents, incident_events: a sentinel column, so that SQLite inserts many rows
in one statement (SQLAlchemy's "insertmanyvalues" matches their RETURNING rows to
their parameters by it; without one it inserts them a statement each)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 22:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("incidents", "incident_events")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("_sentinel", sa.Integer(), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("_sentinel")
