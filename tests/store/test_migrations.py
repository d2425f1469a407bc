"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from pathlib import Path

import pytest
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


def test_the_head_read_from_the_scripts_is_alembics() -> None:
    from alembic.script import ScriptDirectory

    from pager.store.migrate import SCRIPTS, head_revision

    assert head_revision() == ScriptDirectory(str(SCRIPTS)).get_current_head()


async def test_a_database_at_head_is_not_handed_to_alembic(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alembic import command

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("alembic ran")

    monkeypatch.setattr(command, "upgrade", refuse)
    await migrate(db)  # at head: alembic is not even imported on this path

    fresh = Database(f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}")
    try:
        with pytest.raises(AssertionError, match="alembic ran"):
            await migrate(fresh)  # not at head: it is
    finally:
        await fresh.close()
