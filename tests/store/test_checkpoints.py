"""SQLite's WAL is checkpointed by pager every `checkpoints.EVERY` write transactions,
on a connection's thread (pager/store/checkpoints.py), not by the commit that
finds it long, which runs on the event loop's thread.

What a checkpoint did is read from a copy of the database file alone: a commit
is in the WAL until a checkpoint copies it into that file."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import pytest
from sqlalchemy import insert

from pager.store import checkpoints
from pager.store.db import Database
from pager.store.models import PolicyVersion

pytestmark = pytest.mark.parametrize("db_kind", ["sqlite"])
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def in_file(db: Database, tmp_path: Path) -> int:
    """Policy versions in the database file itself, without its WAL."""
    copy = tmp_path / f"copy-{len(list(tmp_path.iterdir()))}.db"
    shutil.copy(db.url.split("///", 1)[1], copy)
    with sqlite3.connect(copy) as conn:
        return int(conn.execute("SELECT count(*) FROM policy_versions").fetchone()[0])


async def write(db: Database, sha: str) -> None:
    async with db.write() as session:
        await session.execute(
            insert(PolicyVersion).values(sha256=sha, body={"sha": sha}, created_at=NOW)
        )


async def test_every_so_many_writes_the_wal_is_checkpointed_off_the_loop(
    db: Database, tmp_path: Path
) -> None:
    with sqlite3.connect(db.url.split("///", 1)[1]) as conn:  # the schema into the file
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    writer = Database(db.url)  # its count of writes starts here
    try:
        for n in range(checkpoints.EVERY - 1):
            await write(writer, f"v{n}")
        assert in_file(writer, tmp_path) == 0  # all in the WAL: SQLite did not checkpoint
        await write(writer, "last")
        await writer.close()  # waits for the checkpoint that write started
    finally:
        await writer.close()
    assert in_file(db, tmp_path) == checkpoints.EVERY


@pytest.mark.parametrize(
    ("synchronous", "pages"), [("normal", checkpoints.WAL_BACKSTOP), ("full", 1000)]
)
async def test_sqlites_own_checkpoint_is_the_backstop_only_when_pager_checkpoints(
    db: Database, synchronous: Literal["normal", "full"], pages: int
) -> None:
    """With synchronous=FULL every commit is on the thread: SQLite's own checkpoint
    (at 1,000 pages, by default) may run there, as it always did."""
    writer = Database(db.url, sqlite_synchronous=synchronous)
    try:
        async with writer.engine.connect() as conn:
            found = (await conn.exec_driver_sql("PRAGMA wal_autocheckpoint")).scalar()
    finally:
        await writer.close()
    assert found == pages
