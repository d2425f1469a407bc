"""SQLite: a batch of webhooks' statements in one trip to the connection's thread.

aiosqlite runs every call on its connection's own thread and answers through
the event loop, each a wait for both threads to be scheduled. Every statement
is one such call (`pager.store.sqlite_driver`), but a batch of 8 webhooks is
still about 9 statements between BEGIN IMMEDIATE and COMMIT, and under load
each trip costs milliseconds while the batch holds the one SQLite writer's
lock: here they are one trip (12 trips a batch of 8 become 4, measured with
the writer alone; see BENCHMARKS.md).

`on_connection_thread(session, work)` runs `work(conn)` (synchronous
SQLAlchemy Core) on that thread in one trip, on a `Connection` over the very
sqlite3 connection whose transaction the session holds (its BEGIN IMMEDIATE,
still pending, opens the same trip). The borrowed connection is the session's
transaction and nothing else: it never begins, commits, rolls back or closes
it (the session does, on the loop, after `work`: the thread runs calls in
order), and never calls it disconnected (the session's error handling
decides). Statements still reach the database engine's `before_cursor_execute`
listeners (fault seams, statement counts), with the same type processing
(both dialects are pysqlite's).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.pool import StaticPool

from pager.store.sqlite_driver import OneTripConnection

T = TypeVar("T")
_DIALECT = "pager_borrowed"
_ENGINE = "pager_borrowed_engine"  # key in the pooled connection's info: one per connection


class BorrowedDialect(SQLiteDialect_pysqlite):
    """pysqlite on a connection whose transaction someone else owns."""

    supports_statement_cache = True

    def on_connect(self) -> None:  # type: ignore[override]
        return None  # the owner configured it (pragmas, isolation level)

    def do_begin(self, dbapi_connection: Any) -> None:
        pass

    def do_commit(self, dbapi_connection: Any) -> None:
        pass

    def do_rollback(self, dbapi_connection: Any) -> None:
        pass

    def is_disconnect(self, e: Exception, connection: Any, cursor: Any) -> bool:
        return False  # never invalidate (close) the owner's connection


async def on_connection_thread(session: AsyncSession, work: Callable[[Connection], T]) -> T:
    """`work(conn)` inside the session's transaction, run on its aiosqlite thread."""
    conn = await session.connection()  # begins the transaction if it had not yet
    pooled = await conn.get_raw_connection()
    adapted: OneTripConnection = pooled.dbapi_connection  # type: ignore[assignment]
    if adapted is None or pooled.driver_connection is None:  # the pool let it go already
        raise RuntimeError("the session's SQLite connection is closed")
    owner = conn.sync_engine
    info = pooled.info

    def call(raw: sqlite3.Connection) -> T:
        engine = info.get(_ENGINE)
        if engine is None:
            engine = info[_ENGINE] = _borrow(raw, owner)
        with engine.connect() as borrowed:
            return work(borrowed)

    # After the transaction's pending BEGIN, in the same trip, as any statement.
    return await adapted.on_thread(call)


def _borrow(raw: sqlite3.Connection, owner: Engine) -> Engine:
    registry.register(f"sqlite.{_DIALECT}", __name__, "BorrowedDialect")  # idempotent
    engine = create_engine(
        f"sqlite+{_DIALECT}://",
        creator=lambda: raw,
        poolclass=StaticPool,
        pool_reset_on_return=None,
        echo=owner.echo,
        json_serializer=owner.dialect._json_serializer,
        json_deserializer=owner.dialect._json_deserializer,
    )

    @event.listens_for(engine, "before_cursor_execute")
    def _forward(*args: Any) -> None:
        owner.dispatch.before_cursor_execute(*args)

    return engine
