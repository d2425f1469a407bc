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
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Callable
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT

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
        driver: aiosqlite.Connection = self._connection  # type: ignore[assignment]

        def call() -> _Outcome:
            cursor = driver._conn.cursor()  # ValueError "no active connection" when closed
            try:
                rows = statement(cursor)
                return cursor.description, cursor.rowcount, cursor.lastrowid, rows
            finally:
                cursor.close()

        async with self._adapt_connection._execute_mutex:
            # aiosqlite's own way onto its thread (what its cursor's methods use):
            # it raises "Connection closed" when stopped, and the call's errors here.
            outcome: _Outcome = await driver._execute(call)  # type: ignore[no-untyped-call]
        self._description, self._rowcount, self._lastrowid, rows = outcome
        self._rows = collections.deque(rows or ())


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneTripCursor  # type: ignore[assignment]  # a subclass of the stock one


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        # The stock connect (the thread made a daemon, async_creator_fn honoured),
        # then this adapter around the same aiosqlite connection.
        stock = super().connect(*arg, **kw)
        return OneTripConnection(self, stock._connection)


def dbapi() -> OneTripDBAPI:
    """The `module` for `create_async_engine("sqlite+aiosqlite://...", module=...)`."""
    return OneTripDBAPI(aiosqlite, sqlite3)
