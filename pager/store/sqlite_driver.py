"""SQLite: every statement in one trip to aiosqlite's thread.

aiosqlite runs each call on its connection's own thread and answers through
the event loop. SQLAlchemy's adapter (`connectors/asyncio.py`,
`dialects/sqlite/aiosqlite.py`) makes three or four such calls a statement:
make a cursor, execute, fetch all rows, close. Each is a wait for both threads
to be scheduled, and under load (two cores, the GIL) each costs a scheduler
turn while SQLite's one writer holds its lock: the engine made about 3.2 a
statement.

`dbapi()` is SQLAlchemy's own aiosqlite DBAPI adapter with one change: its
cursor runs make-execute-fetch-close as one function on the thread and keeps
what the stock cursor would read afterwards (rows, description, rowcount,
lastrowid). `Database` passes it to `create_async_engine(module=...)`, so the
URL, the dialect (`sqlite+aiosqlite`), the pool, event listeners
(`before_cursor_execute` sees every statement, as before) and the mapping of
errors stay SQLAlchemy's: an error raised on the thread is the same sqlite3
exception, raised through the same `_handle_exception` (aiosqlite's "no
active connection" / "Connection closed" become OperationalError there, as
before). Commit and rollback were one trip each already. Server-side cursors
(`stream()`) keep the stock cursor: they fetch as they go, a trip each.

A transaction costs two trips less than that. Its BEGIN [IMMEDIATE] (emitted
by store/db.py's `begin` listener) is not a trip of its own: the connection
keeps it (`begin_with_next`) and the first statement's trip runs it first, on
the same thread, so its error (a lock not had in `busy_timeout`) is that
statement's. A transaction that ran no statement commits or rolls back
without a trip. And the pool's reset when a connection comes back (a
ROLLBACK after every COMMIT) goes to the thread only when SQLite is in a
transaction there, or may be (a call still queued, say one whose waiter was
cancelled): SQLAlchemy resets every connection it gets back, committed or not.

Inside a write transaction no statement makes a trip at all. Its writer holds
SQLite's write lock, so nothing it runs can wait for a lock, and its
statements are small (a batch's): the trip cost more than the statement. Each
trip was a turn of the event loop while the lock was held, spent on whatever
else was ready (webhooks being parsed): at half of pager's rate the engine's
transactions held the lock for four times their own CPU, and the webhooks
waited for that. So `BEGIN IMMEDIATE` is tried on the loop's thread first,
without waiting (busy_timeout 0 for that statement): if another process holds
the lock it goes to the thread, which waits as before. Once it has the lock
every statement runs at once, where it is called (`_inline`), and so does the
COMMIT when it cannot wait for a disk (`commit_inline`: synchronous=NORMAL,
whose commits write the WAL to the OS, and whose checkpoints, which do sync,
the caller moves off the loop: store/db.py). Calls still queued on the thread
(a cancelled waiter's) keep the connection on the thread until they are done:
one connection is never used by two threads at once.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT, await_

T = TypeVar("T")

IMMEDIATE = "BEGIN IMMEDIATE"  # a write transaction: SQLite's write lock, taken at once
# What a statement leaves on its cursor: description, rowcount, lastrowid, rows.
_Outcome = tuple[Any, int, int | None, list[Any] | None]


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor whose every execute is one call on aiosqlite's thread.

    It holds no aiosqlite cursor (making one is a trip of its own): each
    execute makes a sqlite3 cursor on the thread, runs the statement, fetches
    every row (the stock buffered cursor fetches them all at once too) and
    closes it there, so `close()` has nothing left to do on the thread."""

    __slots__ = ("_arraysize", "_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        # Not the base __init__: that makes (and enters) an aiosqlite cursor.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]  # the base close() then skips the thread
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self._arraysize = 1  # sqlite3's default

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]  # None before any INSERT, as sqlite3

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    async def _async_soft_close(self) -> None:
        return None  # closed on the thread already; description is kept

    async def _execute_async(self, operation: Any, parameters: Any) -> None:
        def run(cursor: sqlite3.Cursor) -> list[Any] | None:
            cursor.execute(operation, () if parameters is None else parameters)
            return cursor.fetchall() if cursor.description else None

        await self._on_thread(run)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> None:
        def run(cursor: sqlite3.Cursor) -> None:
            cursor.executemany(operation, seq_of_parameters)

        await self._on_thread(run)

    async def _on_thread(self, statement: Callable[[sqlite3.Cursor], list[Any] | None]) -> None:
        def call(raw: sqlite3.Connection) -> _Outcome:
            cursor = raw.cursor()
            try:
                rows = statement(cursor)
                return cursor.description, cursor.rowcount, cursor.lastrowid, rows
            finally:
                cursor.close()

        connection: OneTripConnection = self._adapt_connection  # type: ignore[assignment]
        outcome = await connection.on_thread(call)
        self._description, self._rowcount, self._lastrowid, rows = outcome
        self._rows = collections.deque(rows or ())


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    """The stock adapter, with the BEGIN it is given sent in the next trip, and no
    trip to commit or roll back what is not there."""

    __slots__ = ("_begin", "_busy_ms", "_done", "_inline", "_queued", "commit_inline")
    _cursor_cls = OneTripCursor  # type: ignore[assignment]  # a subclass of the stock one

    def __init__(self, dbapi: Any, connection: Any) -> None:  # an aiosqlite.Connection
        super().__init__(dbapi, connection)
        self._begin: str | None = None
        # Calls put on the thread and calls it finished: each counter is written on
        # one side only, so equal means nothing is queued or running there.
        self._queued = self._done = 0
        self._inline = False  # in a write transaction holding SQLite's write lock
        self._busy_ms = 0  # PRAGMA busy_timeout, restored after an attempt without it
        self.commit_inline = False  # a COMMIT waits for no disk: run it at once too

    def configure(self, busy_ms: int, commit_inline: bool) -> None:
        """What the connection was given (store/db.py, when it connects)."""
        self._busy_ms, self.commit_inline = busy_ms, commit_inline

    def begin_with_next(self, statement: str) -> None:
        """`statement` (BEGIN or BEGIN IMMEDIATE) opens the next trip to the thread."""
        self._begin = statement

    async def on_thread(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """`work(raw)` on aiosqlite's thread, in one trip, after the pending BEGIN."""
        driver: aiosqlite.Connection = self._connection  # type: ignore[assignment]

        def call() -> T:
            try:
                raw = driver._conn  # ValueError "no active connection" when closed
                if begin is not None:
                    raw.execute(begin)
                    self._inline = begin == IMMEDIATE
                return work(raw)
            finally:
                self._done += 1

        async with self._execute_mutex:
            if self._queued == self._done and (self._inline or self._lock_at_once()):
                return work(driver._conn)  # held: nothing to wait for, no trip
            begin, self._begin = self._begin, None  # taken here: a cancelled wait keeps it
            self._queued += 1
            # aiosqlite's own way onto its thread (what its cursor's methods use):
            # it raises "Connection closed" when stopped, and the call's errors here.
            return await driver._execute(call)  # type: ignore[no-untyped-call,no-any-return]

    def _lock_at_once(self) -> bool:
        """The pending BEGIN IMMEDIATE run here, if the write lock is free now;
        False when it is not (the thread waits for it) or nothing is pending."""
        if self._begin != IMMEDIATE:
            return False
        raw: sqlite3.Connection = self._connection._conn
        raw.execute("PRAGMA busy_timeout=0")
        try:
            raw.execute(IMMEDIATE)
        except sqlite3.OperationalError:  # busy (another process writes): wait on the thread
            return False
        finally:
            raw.execute(f"PRAGMA busy_timeout={self._busy_ms}")
        self._begin, self._inline = None, True
        return True

    def cursor(self, server_side: bool = False) -> Any:
        if server_side and self._begin is not None:  # the stock cursor: BEGIN on its own
            await_(self.on_thread(lambda _raw: None))
        return super().cursor(server_side)

    def commit(self) -> None:
        inline, self._inline = self._inline, False
        if inline and self.commit_inline and self._queued == self._done:
            self._raw_call(sqlite3.Connection.commit)
            return
        if self._nothing_begun():
            return
        super().commit()

    def rollback(self) -> None:
        inline, self._inline = self._inline, False
        if inline and self._queued == self._done:
            self._raw_call(sqlite3.Connection.rollback)  # writes nothing: no disk to wait for
            return
        if self._nothing_begun():
            return
        super().rollback()

    def _raw_call(self, end: Callable[[sqlite3.Connection], None]) -> None:
        """`end` on this thread, its errors mapped as the stock adapter's are."""
        try:
            end(self._connection._conn)
        except Exception as error:
            self._handle_exception(error)

    def _nothing_begun(self) -> bool:
        """No transaction is open on the thread, nor may one be: nothing to end."""
        if self._begin is not None:  # begun, but no statement ran: SQLite has none
            self._begin = None
            return True
        raw = self._connection._connection  # None once closed
        return raw is not None and self._queued == self._done and not raw.in_transaction


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        # The stock connect (the thread made a daemon, async_creator_fn honoured),
        # then this adapter around the same aiosqlite connection.
        stock = super().connect(*arg, **kw)
        return OneTripConnection(self, stock._connection)


def dbapi() -> OneTripDBAPI:
    """The `module` for `create_async_engine("sqlite+aiosqlite://...", module=...)`."""
    return OneTripDBAPI(aiosqlite, sqlite3)
