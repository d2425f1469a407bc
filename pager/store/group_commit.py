"""Group commit for the outbox's small writes: a send's result, a lookup's answer.

Each send commits its own result as soon as its request ends. On
SQLite there is one writer, so when several sends finish together their
writes queue for it; here the ones already waiting share one transaction,
each in its own savepoint: one that fails is rolled back alone and told so,
the others commit, and nobody waits for a send still in flight. A write that
waits alone needs no savepoint (two statements fewer: most writes, when the
sends do not end together): if it fails, the transaction is rolled back. On
PostgreSQL each write is its own transaction (they run side by side, and one
transaction holding several rows' locks could deadlock with an ack).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from pager.store.db import Database

T = TypeVar("T")
Job = Callable[[AsyncSession], Awaitable[Any]]


class GroupCommit:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._queue: list[tuple[Job, asyncio.Future[Any]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def run(self, job: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """`job` in a committed write transaction; its result (or its exception)."""
        if not self.db.is_sqlite:
            async with self.db.write() as session:
                return await job(session)
        done: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append((job, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="pager-group-commit")
        return await done

    async def _write(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
            try:
                async with self.db.write() as session:
                    if len(batch) == 1:
                        job, done = batch[0]
                        outcomes.append((done, await job(session), None))
                    else:
                        for job, done in batch:
                            outcomes.append(await _one(session, job, done))
            except Exception as exc:  # the commit (or a lone job) failed: nothing of it happened
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for done, result, error in outcomes:
                if done.done():
                    continue
                if error is None:
                    done.set_result(result)
                else:
                    done.set_exception(error)


async def _one(
    session: AsyncSession, job: Job, done: asyncio.Future[Any]
) -> tuple[asyncio.Future[Any], Any, BaseException | None]:
    try:
        async with session.begin_nested():
            result = await job(session)
            await session.flush()
        return done, result, None
    except Exception as exc:
        return done, None, exc
