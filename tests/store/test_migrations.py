"""The Alembic migrations build exactly the schema the models describe, and a
new SQLite file made from the models (pager.store.migrate) is the same schema
as one the scripts built."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from pager.store.db import Database
from pager.store.migrate import head_revision, migrate, run_scripts
from pager.store.models import Base


async def test_migrations_match_the_models(db: Database, tmp_path: Path) -> None:
    def diff(sync_conn: Connection) -> list[object]:
        changes: list[object] = compare_metadata(
            MigrationContext.configure(sync_conn), Base.metadata
        )
        return changes

    scripted = db
    if db.is_sqlite:  # the fixture's file was made from the models: run the scripts here
        scripted = Database(f"sqlite+aiosqlite:///{tmp_path / 'scripted.db'}")
        await run_scripts(scripted)
    try:
        async with scripted.engine.connect() as conn:
            changes = await conn.run_sync(diff)
    finally:
        if scripted is not db:
            await scripted.close()
    assert changes == []


async def test_migrate_twice_is_a_no_op(db: Database) -> None:
    await migrate(db)
    await migrate(db)


def test_the_head_read_from_the_scripts_is_alembics() -> None:
    from alembic.script import ScriptDirectory

    from pager.store.migrate import SCRIPTS

    assert head_revision() == ScriptDirectory(str(SCRIPTS)).get_current_head()


def _refuse_alembic(monkeypatch: pytest.MonkeyPatch) -> None:
    from alembic import command

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("alembic ran")

    monkeypatch.setattr(command, "upgrade", refuse)


async def test_a_database_at_head_is_not_handed_to_alembic(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    older = Database(f"sqlite+aiosqlite:///{tmp_path / 'older.db'}")
    try:
        await run_scripts(older, "0007")
        _refuse_alembic(monkeypatch)
        await migrate(db)  # at head: alembic is not even imported on this path
        with pytest.raises(AssertionError, match="alembic ran"):
            await migrate(older)  # behind head: it is
    finally:
        await older.close()


async def test_a_new_sqlite_file_is_made_without_alembic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = Database(f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}")
    _refuse_alembic(monkeypatch)
    try:
        await migrate(fresh)
        await migrate(fresh)  # and it is at head after
    finally:
        await fresh.close()


def _sqlite_schema(sync_conn: Connection) -> dict[str, Any]:
    """Every table's columns (name, type, not null, default, place in the primary
    key), indexes (columns, unique, how made, partial), foreign keys, the other
    clauses of its CREATE TABLE, and the rows of alembic_version. Column order is
    left out: columns added by a later script come last, and every statement of
    pager names its columns."""

    def rows(sql: str) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in sync_conn.exec_driver_sql(sql)]

    schema: dict[str, Any] = {"version": rows("SELECT version_num FROM alembic_version")}
    tables = rows("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name")
    for name, sql in tables:
        columns = {r[1]: r[2:] for r in rows(f"PRAGMA table_info('{name}')")}
        indexes = set()
        for _seq, index, unique, origin, partial in rows(f"PRAGMA index_list('{name}')"):
            cols = tuple(r[2] for r in rows(f"PRAGMA index_info('{index}')"))
            shown = None if index.startswith("sqlite_autoindex_") else index
            indexes.add((shown, cols, unique, origin, partial))
        keys = {r[2:] for r in rows(f"PRAGMA foreign_key_list('{name}')")}
        clauses = {
            line.strip().rstrip(",")
            for line in sql.splitlines()[1:]
            if not any(line.strip().startswith(f"{c} ") for c in columns)
        }
        schema[name] = (columns, indexes, keys, clauses)
    return schema


async def test_a_new_sqlite_file_made_from_the_models_is_the_schema_the_scripts_make(
    tmp_path: Path,
) -> None:
    made, scripted = (Database(f"sqlite+aiosqlite:///{tmp_path / n}.db") for n in "ab")
    try:
        await migrate(made)
        await run_scripts(scripted)
        schemas = []
        for database in (made, scripted):
            async with database.engine.connect() as conn:
                schemas.append(await conn.run_sync(_sqlite_schema))
    finally:
        await made.close()
        await scripted.close()
    assert schemas[0]["version"] == [(head_revision(),)]
    assert len(schemas[0]) > 10  # every table is there
    assert schemas[0] == schemas[1]
