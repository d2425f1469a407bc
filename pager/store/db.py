"""The database handle: engine, sessions and the write discipline.

Writes go through `Database.write()`: one transaction, committed before the
caller answers anyone. On SQLite (the single-node default) writes are also
serialised in-process and start with BEGIN IMMEDIATE, so a writer never fails
half-way on a lock upgrade; WAL keeps readers from blocking. An `urgent`
write (webhooks waiting for their 2xx) takes its turn at that lock before the
others, but never two turns in a row while another writer waits
(store/write_turns.py). On PostgreSQL the
engine claims rows with FOR UPDATE SKIP LOCKED, so replicas can share it.

Every wait is bounded by `timeout` (PAGER_DB_TIMEOUT): connecting, getting a
connection from the pool, each statement (asyncpg's `timeout` and
`command_timeout`; the pool's ping is a statement too), and on SQLite the
wait for the write lock and for another process's lock. A database that does
not answer (packets dropped) is then a TimeoutError within about twice
`timeout`, and a webhook gets its 503 instead of hanging. Migrations, which
wait for each other across replicas, get a connection without that bound.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from sqlalchemy import Table, event
from sqlalchemy.exc import (
    DBAPIError,
    IntegrityError,
    InterfaceError,
    InvalidatePoolError,
    OperationalError,
)
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from pager.store import json_codec
from pager.store.checkpoints import WAL_BACKSTOP, Checkpoints
from pager.store.write_turns import WriteTurns

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql, sqlite

_IMMEDIATE = "pager_immediate"
_RETURNED = "pager_returned"  # when a PostgreSQL connection was last given back to the pool
T = TypeVar("T")
log = logging.getLogger(__name__)

# Errors that may mean "the database is not there right now" (answer 503, retry
# later); `unavailable()` tells them from bugs such as a bad query.
UNAVAILABLE: tuple[type[BaseException], ...] = (DBAPIError, OSError, TimeoutError)


JSON_CODEC = {"json_serializer": json_codec.dumps, "json_deserializer": json_codec.loads}
_SYNCHRONOUS = {"normal": "NORMAL", "full": "FULL"}  # PRAGMA synchronous, by setting
RACE_STATES = {"40P01", "40001"}  # PostgreSQL deadlock_detected, serialization_failure


def _lost_race(exc: DBAPIError) -> bool:
    if isinstance(exc, IntegrityError):
        return True
    state = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return state in RACE_STATES


def unavailable(exc: BaseException) -> bool:
    """The database is not there or does not take writes right now: retry later."""
    if isinstance(exc, OSError | TimeoutError | OperationalError | InterfaceError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def unreachable(exc: BaseException) -> bool:
    """The database could not be reached at all (rather than answering with a refusal)."""
    if isinstance(exc, OSError | TimeoutError | InterfaceError):
        return True
    if isinstance(exc, DBAPIError):
        return exc.connection_invalidated or isinstance(exc.orig, OSError | TimeoutError)
    return False


def upsert(dialect: str, table: Table | type[Any]) -> postgresql.Insert | sqlite.Insert:
    """`INSERT` into `table` (or a mapped class) in `dialect`'s own words, for its
    `on_conflict_do_…`: only the dialect in use is imported (the other one is
    15-30 ms more at start)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


class Database:
    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        pool_size: int = 10,
        timeout: float = 5.0,
        sqlite_synchronous: Literal["normal", "full"] = "normal",
    ) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.timeout = timeout
        kwargs: dict[str, Any] = {"echo": echo, **JSON_CODEC}
        if self.is_sqlite:
            from pager.store import sqlite_driver  # SQLite's dialect: not on PostgreSQL

            kwargs["connect_args"] = {"timeout": timeout}
            kwargs["module"] = sqlite_driver.dbapi()  # one trip to its thread a statement
        else:
            kwargs.update(
                pool_size=pool_size,
                max_overflow=pool_size,
                pool_timeout=timeout,
                connect_args={"timeout": timeout, "command_timeout": timeout},
            )
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        # With synchronous=NORMAL a commit waits for no disk: it runs on the loop's
        # thread (store/sqlite_driver.py) and the checkpoints, which do, on another.
        self._checkpoints: Checkpoints | None = None
        if self.is_sqlite:
            synchronous = _SYNCHRONOUS[sqlite_synchronous]
            _configure_sqlite(self.engine, timeout, synchronous)
            if synchronous == "NORMAL":
                self._checkpoints = Checkpoints(self.engine)
        else:
            _ping_when_idle(self.engine)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._write_lock = WriteTurns() if self.is_sqlite else None

    @asynccontextmanager
    async def write(self, *, urgent: bool = False) -> AsyncIterator[AsyncSession]:
        """One write transaction; commits on success, rolls back on error. `urgent`:
        on SQLite, its turn at the write lock comes before the others waiting."""
        if self._write_lock is None:
            async with self.sessions() as session, session.begin():
                yield session
            return
        async with asyncio.timeout(self.timeout):  # another writer holds it too long
            await self._write_lock.acquire(urgent)
        try:
            async with self._locked_write() as session:
                yield session
        finally:
            self._write_lock.release()
            if self._checkpoints is not None:
                self._checkpoints.wrote()

    @asynccontextmanager
    async def _locked_write(self) -> AsyncIterator[AsyncSession]:
        async with self.engine.connect() as conn:
            conn.sync_connection.info[_IMMEDIATE] = True  # type: ignore[union-attr]
            try:
                async with (
                    AsyncSession(bind=conn, expire_on_commit=False) as session,
                    session.begin(),
                ):
                    yield session
            finally:
                conn.sync_connection.info.pop(_IMMEDIATE, None)  # type: ignore[union-attr]

    async def transact(
        self,
        work: Callable[[AsyncSession], Awaitable[T]],
        attempts: int = 3,
        *,
        urgent: bool = False,
    ) -> T:
        """Run `work` in a write transaction (`urgent`: as in `write`), again (from
        the start) when it lost a race: a deadlock, a serialization failure or a
        unique key another replica took first. The last failure is raised."""
        for attempt in range(1, attempts + 1):
            try:
                async with self.write(urgent=urgent) as session:
                    return await work(session)
            except DBAPIError as exc:
                if attempt == attempts or not _lost_race(exc):
                    raise
                log.info("transaction lost a race, retrying: %s", exc.orig)
        raise AssertionError("unreachable")

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            yield session

    @asynccontextmanager
    async def unbounded(self) -> AsyncIterator[AsyncEngine]:
        """An engine whose statements may take as long as they take (migrations)."""
        if self.is_sqlite:
            yield self.engine
            return
        engine = create_async_engine(
            self.url, connect_args={"timeout": self.timeout, "command_timeout": None}, **JSON_CODEC
        )
        try:
            yield engine
        finally:
            await engine.dispose()

    async def close(self) -> None:
        if self._checkpoints is not None:
            await self._checkpoints.close()
        await self.engine.dispose()


PING_IDLE = 2.0  # seconds: a pooled connection idle longer is pinged as it is checked out


def _ping_when_idle(engine: AsyncEngine) -> None:
    """Pre-ping only connections idle for PING_IDLE: SQLAlchemy's pool_pre_ping
    costs three round trips (BEGIN, a ping, ROLLBACK) on every checkout, and a busy
    engine checks out a connection for every transaction. A connection used a
    moment ago is as good as the database (a restart since is met by the first
    statement, whose disconnect error invalidates the whole pool, as a failed
    ping does); one idle longer may have outlived a restart and is pinged, so
    the first request after a quiet outage gets a new connection, not a 503."""
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(_dbapi_conn: Any, record: Any) -> None:
        record.info[_RETURNED] = time.monotonic()

    @event.listens_for(sync_engine, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info[_RETURNED] = time.monotonic()

    @event.listens_for(sync_engine, "checkout")
    def _on_checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get(_RETURNED, 0.0) <= PING_IDLE:
            return
        try:
            sync_engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:  # the pool connects anew (and drops the other old ones)
            raise InvalidatePoolError(f"ping of an idle connection failed: {exc}") from exc


def _configure_sqlite(engine: AsyncEngine, timeout: float, synchronous: str) -> None:
    """WAL with synchronous=NORMAL: a commit survives a crash of the process (the
    WAL is in the OS's hands) but the last ones may be lost on power loss; FULL
    syncs the WAL on every commit and survives that too (PAGER_SQLITE_SYNCHRONOUS)."""
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy (not the driver) emit BEGIN, so writes can be IMMEDIATE.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        commit_inline = synchronous == "NORMAL"
        if commit_inline:  # store/checkpoints.py checkpoints; SQLite's own is the backstop
            cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_BACKSTOP}")
        cursor.close()
        dbapi_conn.configure(int(timeout * 1000), commit_inline)

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Sent with the transaction's first statement, in its trip (store/sqlite_driver.py).
        begin = "BEGIN IMMEDIATE" if conn.info.get(_IMMEDIATE) else "BEGIN"
        conn.connection.dbapi_connection.begin_with_next(begin)
