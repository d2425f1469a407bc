"""Database.transact runs a transaction again when it lost a race, and only then."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from pager.store.db import Database
from pager.store.models import MaintenanceWindow


class Orig(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def lost(sqlstate: str) -> DBAPIError:
    return DBAPIError("UPDATE ...", {}, Orig(sqlstate))


async def count(db: Database) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(MaintenanceWindow)) or 0)


async def test_deadlock_is_retried_and_the_failed_attempt_left_nothing(db: Database, clock):
    attempts = []

    async def work(session: AsyncSession) -> str:
        attempts.append(1)
        session.add(
            MaintenanceWindow(
                matchers=["a=b"],
                start=clock.now(),
                end=clock.now(),
                reason="",
                created_at=clock.now(),
            )
        )
        await session.flush()
        if len(attempts) == 1:
            raise lost("40P01")  # deadlock_detected
        return "done"

    assert await db.transact(work) == "done"
    assert len(attempts) == 2
    assert await count(db) == 1  # the first attempt was rolled back


async def test_other_database_errors_are_not_retried(db: Database):
    attempts = []

    async def work(session: AsyncSession) -> None:
        attempts.append(1)
        raise lost("42P01")  # undefined_table: a bug, not a race

    with pytest.raises(DBAPIError):
        await db.transact(work)
    assert len(attempts) == 1


async def test_gives_up_after_the_last_attempt(db: Database):
    attempts = []

    async def work(session: AsyncSession) -> None:
        attempts.append(1)
        raise lost("40001")

    with pytest.raises(DBAPIError):
        await db.transact(work, attempts=3)
    assert len(attempts) == 3
