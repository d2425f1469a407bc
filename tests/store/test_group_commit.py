"""Group commit: writes queued together share a transaction, each in a savepoint."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession

from pager.store.db import Database
from pager.store.group_commit import GroupCommit
from pager.store.models import PolicyVersion

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def store(sha: str, fail: bool = False):
    async def job(session: AsyncSession) -> str:
        session.add(PolicyVersion(sha256=sha, body={}, created_at=NOW))
        await session.flush()
        if fail:
            raise ValueError(f"job {sha} fails")
        return sha

    return job


async def shas(db: Database) -> list[str]:
    async with db.read() as session:
        return sorted((await session.execute(select(PolicyVersion.sha256))).scalars())


async def test_one_failing_write_is_rolled_back_alone(db: Database) -> None:
    commits = GroupCommit(db)
    results = await asyncio.gather(
        commits.run(store("a")),
        commits.run(store("b", fail=True)),
        commits.run(store("c")),
        return_exceptions=True,
    )
    assert results[0] == "a"
    assert isinstance(results[1], ValueError)
    assert results[2] == "c"
    assert await shas(db) == ["a", "c"]


@pytest.mark.parametrize("db_kind", ["sqlite"])  # PostgreSQL: one transaction each, by design
async def test_writes_that_queue_together_share_one_transaction(db: Database) -> None:
    commits = GroupCommit(db)
    begins = 0

    def count(_conn: object) -> None:
        nonlocal begins
        begins += 1

    event.listen(db.engine.sync_engine, "begin", count)
    try:
        await asyncio.gather(*(commits.run(store(sha)) for sha in "uvwxyz"))
    finally:
        event.remove(db.engine.sync_engine, "begin", count)
    assert begins == 1
    assert await shas(db) == list("uvwxyz")
