"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from pager.store.db import Database
from pager.store.migrate import migrate
from pager.store.models import Base


async def test_migrations_match_the_models(db: Database) -> None:
    def diff(sync_conn: Connection) -> list[object]:
        changes: list[object] = compare_metadata(
            MigrationContext.configure(sync_conn), Base.metadata
        )
        return changes

    async with db.engine.connect() as conn:
        changes = await conn.run_sync(diff)
    assert changes == []


async def test_migrate_twice_is_a_no_op(db: Database) -> None:
    await migrate(db)
    await migrate(db)
