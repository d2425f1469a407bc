"""Periodic jobs, once per cluster, whatever the number of replicas.

Every replica's scheduler fires every job; `once()` makes one run of a job
(named, with its due time) happen in exactly one of them: the run is claimed
in the database (pager.store.jobs) in the same transaction as its work, so a
run is done once, and a run whose work failed is not marked done. The daily
reminders and the handoff notices are such jobs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from pager.store.db import Database
from pager.store.jobs import claim_run

Work = Callable[[AsyncSession], Awaitable[int]]


async def once(db: Database, job: str, due_at: datetime, now: datetime, work: Work) -> int | None:
    """Do the run (job, due_at) here, unless a replica did or does it: None then;
    else what `work` returned."""
    async with db.write() as session:
        if not await claim_run(session, job, due_at, now):
            return None
        return await work(session)
