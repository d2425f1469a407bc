"""Group commit: one writer per process records concurrent webhooks in one transaction.

Guarantee: `Writer.record(alerts)` returns only once a transaction holding all
of that webhook's alerts has committed, and raises, for that webhook alone,
whatever kept its alerts from being committed; nothing of a failed webhook is
left written.

How: each call queues its webhook and waits. A single writer task (started
by the first call, gone when the queue is empty) takes what has queued, up to
`max_batch` webhooks, and records them with `store.alert_writes.record_batch`
in one `Database.transact` (run again from the start when it lost a race to
another replica). Batches form by themselves: what arrives while one
transaction runs goes into the next. After a batch of several, the writer
lets the handlers already running queue theirs first (`linger`, 0 by default:
one turn of the loop; senders wait for their answers, so a longer pause
mostly delays them: in-process on PostgreSQL, 8 senders, 2 ms of linger
halved the rate).

On SQLite a batch's turn at the write lock comes before the engine's
transactions waiting for it, but never two in a row while one waits
(`urgent`, store/write_turns.py): a webhook waits for the holder and at most
one engine transaction, not for every one queued before it.

On PostgreSQL up to LANES_POSTGRES batches are in flight at once, so a batch
that waits for a row the engine holds (a resolve waits for the escalator's
claim on that incident) does not hold up the webhooks behind it; batches in
flight together are concurrent transactions, as two replicas' are (an open
key taken meanwhile: the loser runs again). On SQLite, whose writers take
turns anyway, there is one.

If the transaction fails for a reason other than the database being away,
each webhook of the batch is recorded again alone, so a bad one fails only
itself; when the database is away, every webhook of the batch gets that error
(503) and the rolled-back transaction left nothing. `drain()` (app shutdown)
waits until every queued webhook is answered.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from prometheus_client import Histogram
from sqlalchemy.ext.asyncio import AsyncSession

from pager.clock import Clock
from pager.core.alert import AlertIn
from pager.engine.pings import Pings, take_pings
from pager.engine.policy_runtime import PolicyRuntime
from pager.store.alert_batch import Classified, IngestContext, Part
from pager.store.alert_writes import record_batch
from pager.store.db import Database, unavailable
from pager.store.incidents import IngestResult, incident_id
from pager.store.maintenance import MaintenanceCache

log = logging.getLogger(__name__)


LANES_POSTGRES = 4  # batches in flight at once on PostgreSQL (SQLite: 1, its one writer)


class WriterClosed(Exception):
    """The process is shutting down: the webhook was not recorded (answer 503)."""


@dataclass(frozen=True)
class Recorded:
    """What one webhook changed, committed: its incidents, its heartbeat pings, when."""

    result: IngestResult
    pings: Pings
    at: datetime


@dataclass
class _Job:
    alerts: Sequence[AlertIn]
    drill: bool
    done: asyncio.Future[Recorded] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    def answer(self, recorded: Recorded | BaseException) -> None:
        if self.done.done():  # its request went away meanwhile
            return
        if isinstance(recorded, BaseException):
            self.done.set_exception(recorded)
        else:
            self.done.set_result(recorded)


class Writer:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        policies: PolicyRuntime,
        maintenance: MaintenanceCache,
        batch_sizes: Histogram | None = None,
        *,
        max_batch: int = 64,
        linger: float = 0.0,
        lanes: int | None = None,
    ) -> None:
        self.db, self.clock, self.policies, self.maintenance = db, clock, policies, maintenance
        self.batch_sizes, self.max_batch, self.linger = batch_sizes, max_batch, linger
        self.lanes = lanes or (1 if db.is_sqlite else LANES_POSTGRES)
        self._queue: deque[_Job] = deque()
        self._tasks: set[asyncio.Task[None]] = set()
        self._running = 0  # lanes between their start and their last look at the queue
        self._closed = False

    @property
    def queued(self) -> int:
        """Webhooks waiting for the next batch."""
        return len(self._queue)

    async def record(self, alerts: Sequence[AlertIn], *, drill: bool = False) -> Recorded:
        """Record one webhook's alerts; returns after they are committed."""
        if self._closed:
            raise WriterClosed("pager is shutting down")
        job = _Job(alerts, drill)
        self._queue.append(job)
        if self._running < self.lanes:
            self._running += 1
            task = asyncio.create_task(self._run(), name="pager-ingest-writer")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await job.done

    async def drain(self) -> None:
        """Take no more webhooks; return once every queued one is answered."""
        self._closed = True
        while self._tasks:
            await asyncio.gather(*self._tasks)

    async def _run(self) -> None:
        last = 1
        try:
            while self._queue:
                if last > 1 and len(self._queue) < self.max_batch:
                    await asyncio.sleep(self.linger)
                jobs = [self._queue.popleft() for _ in range(min(self.max_batch, len(self._queue)))]
                last = len(jobs)
                await self._commit(jobs)
        finally:  # cancelled: nobody waits for an answer that will not come
            self._running -= 1
            while self._queue and not self._running:
                self._queue.popleft().answer(WriterClosed("pager is shutting down"))

    async def _commit(self, jobs: list[_Job]) -> None:
        if self.batch_sizes is not None:
            self.batch_sizes.observe(len(jobs))
        try:
            recorded = await self.db.transact(
                lambda session: self._record(session, jobs), urgent=True
            )
        except Exception as exc:
            if len(jobs) == 1 or unavailable(exc):
                for job in jobs:
                    job.answer(exc)
                return
            log.warning("a batch of %d webhooks failed (%s); recording each alone", len(jobs), exc)
            for job in jobs:
                await self._commit([job])
            return
        for job, one in zip(jobs, recorded, strict=True):
            job.answer(one)

    async def _record(self, session: AsyncSession, jobs: list[_Job]) -> list[Recorded]:
        active = self.policies.active
        now = self.clock.now()
        suppressed = await self.maintenance.suppressor(session, now)
        classified = Classified()
        pings = [await take_pings(session, active, j.alerts, now, classified) for j in jobs]
        parts = [
            Part(
                p.rest,
                IngestContext(active.classifier.classify, active.version_id, suppressed, j.drill),
            )
            for j, p in zip(jobs, pings, strict=True)
        ]
        results = await record_batch(session, parts, now, classified)
        recorded = []
        for part, p in zip(results, pings, strict=True):
            result = part.map(incident_id)
            result.resolved += p.resolved
            recorded.append(Recorded(result, p, now))
        return recorded
