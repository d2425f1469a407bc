"""SQLite's WAL checkpoints, made on a connection's thread, away from the event loop.

A checkpoint copies the WAL back into the database file and syncs both: with
synchronous=NORMAL the only disk wait SQLite has. By default the commit that
finds the WAL past 1,000 pages makes it, where it commits; pager's write
transactions commit on the loop's thread (store/sqlite_driver.py), so that
commit would stall every request for the checkpoint's syncs. Instead the
process checkpoints every `every` write transactions itself (PASSIVE: it waits
for no reader or writer, and what it could not copy yet is copied next time),
on the thread of a pooled connection; SQLite's own checkpoint stays as the
backstop, at WAL_BACKSTOP pages, should these fall behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3

from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)
EVERY = 200  # write transactions between two checkpoints: a few MB of WAL
WAL_BACKSTOP = 10_000  # pages (40 MB): PRAGMA wal_autocheckpoint, if ours fall behind


class Checkpoints:
    def __init__(self, engine: AsyncEngine, every: int = EVERY) -> None:
        self.engine, self.every = engine, every
        self._writes = 0
        self._task: asyncio.Task[None] | None = None

    def wrote(self) -> None:
        """A write transaction ended: checkpoint when `every` have, unless one runs."""
        self._writes += 1
        if self._writes < self.every or (self._task is not None and not self._task.done()):
            return
        self._writes = 0
        self._task = asyncio.create_task(self._checkpoint(), name="pager-wal-checkpoint")

    async def close(self) -> None:
        """Wait for a checkpoint under way (before the engine is disposed)."""
        if self._task is not None:
            with contextlib.suppress(Exception):
                await self._task

    async def _checkpoint(self) -> None:
        try:
            async with self.engine.connect() as conn:
                raw = (await conn.get_raw_connection()).dbapi_connection
                await raw.on_thread(_passive)  # type: ignore[union-attr]
        except Exception as exc:  # the backstop checkpoints: worth a line, not a failure
            log.warning("WAL checkpoint failed (SQLite's own will run later): %s", exc)


def _passive(raw: sqlite3.Connection) -> None:
    raw.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
