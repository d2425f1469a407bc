"""SQLite: every statement is one trip to aiosqlite's thread (pager/store/sqlite_driver.py),
and what a statement leaves (rows, keys, rowcount, lastrowid, its errors) is as before.

A trip is one call queued for the connection's thread: the test counts what is
put on that aiosqlite connection's queue. SQLAlchemy's stock adapter makes
three or four a statement (cursor, execute, fetch, close).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from sqlalchemy import Table, event, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from pager.store.db import Database, _lost_race, unavailable
from pager.store.models import PolicyVersion

pytestmark = pytest.mark.parametrize("db_kind", ["sqlite"])
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
VERSIONS = cast(Table, PolicyVersion.__table__)


class Trips:
    """Stands in for one aiosqlite connection's queue of calls for its thread, counting
    them (the thread keeps reading the queue it was started with)."""

    def __init__(self, queue: Any) -> None:
        self.queue, self.count = queue, 0

    def put_nowait(self, item: Any) -> None:
        self.count += 1
        self.queue.put_nowait(item)


@contextlib.asynccontextmanager
async def trips_of(conn: AsyncConnection) -> AsyncIterator[Trips]:
    driver: Any = (await conn.get_raw_connection()).driver_connection
    trips = Trips(driver._tx)
    driver._tx = trips
    try:
        yield trips
    finally:
        driver._tx = trips.queue


def version(sha: str) -> dict[str, Any]:
    return {"sha256": sha, "body": {"sha": sha}, "created_at": NOW}


async def seed(db: Database, *shas: str) -> None:
    async with db.write() as session:
        await session.execute(insert(PolicyVersion), [version(s) for s in shas])


async def test_a_select_is_one_trip_with_all_its_rows_and_columns(db: Database) -> None:
    await seed(db, "a", "b", "c")
    async with db.engine.connect() as conn, conn.begin():
        async with trips_of(conn) as trips:
            result = await conn.execute(
                select(VERSIONS.c.sha256, VERSIONS.c.body).order_by(VERSIONS.c.id)
            )
        assert trips.count == 1
        assert list(result.keys()) == ["sha256", "body"]  # from the cursor's description
        assert result.all() == [("a", {"sha": "a"}), ("b", {"sha": "b"}), ("c", {"sha": "c"})]


async def test_an_insert_returning_is_one_trip_and_returns_the_new_id(db: Database) -> None:
    await seed(db, "a")
    async with db.engine.connect() as conn, conn.begin():
        async with trips_of(conn) as trips:
            returned = await conn.execute(
                insert(PolicyVersion).values(version("b")).returning(VERSIONS.c.id)
            )
        assert trips.count == 1
        assert returned.scalar_one() == 2


async def test_a_plain_insert_has_its_lastrowid_and_an_update_its_rowcount(db: Database) -> None:
    await seed(db, "a", "b")
    async with db.engine.connect() as conn, conn.begin():
        async with trips_of(conn) as trips:
            inserted = await conn.execute(insert(VERSIONS).values(version("c")))
            updated = await conn.execute(
                update(VERSIONS).where(VERSIONS.c.sha256 < "c").values(body={})
            )
        assert trips.count == 2
        assert inserted.lastrowid == 3
        assert inserted.inserted_primary_key == (3,)
        assert updated.rowcount == 2


async def test_executemany_is_one_trip_and_commit_another(db: Database) -> None:
    async with db.engine.connect() as conn:
        await conn.begin()
        async with trips_of(conn) as trips:
            many = await conn.execute(insert(VERSIONS), [version(s) for s in "xyz"])
            assert trips.count == 1
            assert many.rowcount == 3
            await conn.commit()
            assert trips.count == 2
    async with db.read() as session:
        assert len((await session.execute(select(PolicyVersion))).all()) == 3


async def test_orm_statements_are_one_trip_each_and_listeners_see_every_one(db: Database) -> None:
    seen: list[str] = []

    def listen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement.split()[0])

    event.listen(db.engine.sync_engine, "before_cursor_execute", listen)
    try:
        async with (
            db.engine.connect() as conn,
            trips_of(conn) as trips,
            AsyncSession(bind=conn, expire_on_commit=False) as session,
        ):
            session.add(PolicyVersion(**version("orm")))
            await session.flush()  # INSERT, BEGIN first in its trip
            session.expunge_all()
            found = await session.scalar(select(PolicyVersion))
            await session.commit()
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", listen)
    assert found is not None
    assert (found.id, found.sha256) == (1, "orm")
    assert seen == ["INSERT", "SELECT"]  # BEGIN is no statement of its own
    assert trips.count == len(seen) + 1  # and the commit


async def test_a_stream_still_fetches_as_it_goes(db: Database) -> None:
    await seed(db, "a", "b", "c")
    async with db.engine.connect() as conn, conn.begin():
        result = await conn.stream(select(VERSIONS.c.sha256).order_by(VERSIONS.c.id))
        assert [row.sha256 async for row in result] == ["a", "b", "c"]


async def test_a_unique_violation_is_an_integrity_error_a_lost_race(db: Database) -> None:
    await seed(db, "a")
    with pytest.raises(IntegrityError) as raised:
        await seed(db, "a")
    assert "UNIQUE constraint failed: policy_versions.sha256" in str(raised.value.orig)
    assert _lost_race(raised.value)
    await seed(db, "b")  # the failed statement left its connection usable


async def test_a_locked_database_is_an_operational_error_unavailable(db: Database) -> None:
    await seed(db, "a")
    impatient = Database(db.url, timeout=0)  # busy_timeout 0: fail at once, no waiting
    try:
        async with db.write() as holder:  # BEGIN IMMEDIATE: the write lock is taken
            await holder.execute(select(PolicyVersion))
            with pytest.raises(OperationalError) as raised:
                async with impatient.engine.begin() as conn:
                    await conn.execute(insert(VERSIONS).values(version("b")))
    finally:
        await impatient.close()
    assert "database is locked" in str(raised.value.orig)
    assert unavailable(raised.value)


async def test_a_closed_driver_connection_is_an_operational_error_and_invalidated(
    db: Database,
) -> None:
    async with db.engine.connect() as conn:
        driver: Any = (await conn.get_raw_connection()).driver_connection
        await driver.close()  # behind SQLAlchemy's back, as a connection lost
        with pytest.raises(OperationalError) as raised:
            await conn.execute(select(VERSIONS.c.id))
    assert raised.value.connection_invalidated
    assert unavailable(raised.value)
    async with db.read() as session:  # the pool made a new connection
        assert (await session.execute(select(VERSIONS.c.id))).all() == []


class Counted:
    """A Database whose connections' trips to their threads are counted, from now."""

    def __init__(self, url: str, **settings: Any) -> None:
        self.db, self.queues, self.since = Database(url, **settings), list[Trips](), 0
        event.listen(self.db.engine.sync_engine, "connect", self._wrap)

    def _wrap(self, dbapi_conn: Any, _record: Any) -> None:
        driver = dbapi_conn.driver_connection
        driver._tx = Trips(driver._tx)
        self.queues.append(driver._tx)

    def trips(self) -> int:
        return sum(q.count for q in self.queues) - self.since

    def from_now(self) -> None:
        self.since += self.trips()


@contextlib.asynccontextmanager
async def counted(url: str, **settings: Any) -> AsyncIterator[Counted]:
    made = Counted(url, **settings)
    try:
        yield made
    finally:
        await made.db.close()


async def test_a_write_makes_no_trip_and_a_read_a_trip_a_statement(db: Database) -> None:
    async with counted(db.url) as writer:
        await seed(writer.db, "a")  # the pool's first connection: its pragmas are trips too
        writer.from_now()
        async with writer.db.write() as session:  # the lock was free: taken on this thread
            await session.execute(insert(VERSIONS).values(version("b")))
            await session.execute(update(VERSIONS).values(body={"sha": "b2"}))
        assert writer.trips() == 0  # BEGIN IMMEDIATE, INSERT, UPDATE, COMMIT: all at once
        async with writer.db.read() as session:
            assert len((await session.execute(select(VERSIONS.c.id))).all()) == 2
        assert writer.trips() == 2  # SELECT (after its BEGIN), ROLLBACK of the read
    async with db.read() as session:  # committed, as seen by another connection
        bodies = (await session.execute(select(VERSIONS.c.body))).scalars().all()
    assert bodies == [{"sha": "b2"}, {"sha": "b2"}]


async def test_with_synchronous_full_the_commit_goes_to_the_thread(db: Database) -> None:
    async with counted(db.url, sqlite_synchronous="full") as writer:
        await seed(writer.db, "a")
        writer.from_now()
        async with writer.db.write() as session:
            await session.execute(insert(VERSIONS).values(version("b")))
        assert writer.trips() == 1  # the COMMIT, which syncs the WAL: not on the loop


async def test_a_failed_write_rolls_back_at_once_and_leaves_nothing(db: Database) -> None:
    async with counted(db.url) as writer:
        await seed(writer.db, "a")
        writer.from_now()

        async def write_b_then_a() -> None:
            async with writer.db.write() as session:
                await session.execute(insert(VERSIONS).values(version("b")))
                await session.execute(insert(VERSIONS).values(version("a")))  # taken

        with pytest.raises(IntegrityError):
            await write_b_then_a()
        assert writer.trips() == 0
        await seed(writer.db, "c")  # the connection is usable, with no transaction left
    async with db.read() as session:
        shas = (await session.execute(select(VERSIONS.c.sha256))).scalars().all()
    assert sorted(shas) == ["a", "c"]


async def test_a_write_lock_held_elsewhere_is_waited_for_on_the_thread(db: Database) -> None:
    """Another process's writer (here a plain sqlite3 connection) holds the lock: the
    BEGIN IMMEDIATE goes to the thread, which waits for it (busy_timeout), not
    the loop, which goes on; once the lock is free the write commits."""
    await seed(db, "a")
    other = sqlite3.connect(db.url.split("///", 1)[1], isolation_level=None)
    async with counted(db.url) as writer:
        await seed(writer.db, "b0")  # the pool's connection, made before the lock is taken
        other.execute("BEGIN IMMEDIATE")
        writer.from_now()

        async def write() -> None:
            async with writer.db.write() as session:
                await session.execute(insert(VERSIONS).values(version("b")))

        waiting = asyncio.create_task(write())
        for _ in range(100):  # turns of the loop, which is free while the thread waits
            if writer.trips():
                break
            await asyncio.sleep(0)
        assert not waiting.done()
        other.execute("COMMIT")
        await waiting
        assert writer.trips() == 1  # BEGIN IMMEDIATE with the INSERT; the rest at once
    other.close()
    async with db.read() as session:
        shas = (await session.execute(select(VERSIONS.c.sha256))).scalars().all()
    assert sorted(shas) == ["a", "b", "b0"]


async def test_a_transaction_that_ran_nothing_makes_no_trip(db: Database) -> None:
    async with counted(db.url) as writer:
        await seed(writer.db, "a")
        writer.from_now()
        async with writer.db.write():
            pass
        async with writer.db.read():
            pass
        assert writer.trips() == 0
        await seed(writer.db, "b")  # and the connection has no transaction left open
    async with db.read() as session:
        assert len((await session.execute(select(VERSIONS.c.id))).all()) == 2


async def test_a_connection_given_back_in_a_transaction_is_rolled_back(db: Database) -> None:
    async with db.engine.connect() as conn:
        await conn.begin()
        await conn.execute(insert(VERSIONS).values(version("lost")))
    # Given back with its transaction open: the pool's reset went to the thread.
    await seed(db, "kept")
    async with db.read() as session:
        assert (await session.execute(select(VERSIONS.c.sha256))).scalars().all() == ["kept"]


async def test_a_call_still_on_the_thread_is_rolled_back_after_it(db: Database) -> None:
    """A statement whose waiter was cancelled still runs on the thread: the rollback
    of its connection must go there after it, even though SQLite is not (yet) in a
    transaction when it is asked for."""
    gate = threading.Event()

    def late_insert(raw: Any) -> None:
        gate.wait(10)
        raw.execute("BEGIN")
        raw.execute(
            "INSERT INTO policy_versions (sha256, body, created_at) VALUES ('late', '{}', '')"
        )

    conn = await db.engine.connect()
    adapted: Any = (await conn.get_raw_connection()).dbapi_connection
    queued = adapted._queued
    waiter = asyncio.create_task(adapted.on_thread(late_insert))
    await asyncio.sleep(0)  # one turn of the loop: the call is queued
    assert adapted._queued == queued + 1  # for the thread, which waits at the gate
    waiter.cancel()
    closing = asyncio.create_task(conn.close())  # the pool's reset: a rollback
    await asyncio.sleep(0)
    gate.set()
    await closing
    # After every call before it: the pooled connection has no transaction left open.
    assert await adapted.on_thread(lambda raw: raw.in_transaction) is False
    await seed(db, "next")
    async with db.read() as session:
        assert (await session.execute(select(VERSIONS.c.sha256))).scalars().all() == ["next"]
