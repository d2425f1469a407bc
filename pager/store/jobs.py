"""Periodic jobs, once per cluster: a run is claimed by inserting its row.

A job's run is known by (job name, due time). `claim_run` inserts that row
inside the caller's write transaction, with the work of the run in the same
transaction: of several replicas that reach one run, exactly one inserts the
row and does the work; the others find it taken (PostgreSQL makes the second
insert wait for the first to commit, then skip) and do nothing. A run whose
transaction fails leaves no row, so another tick or replica does it again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from pager.store.db import upsert
from pager.store.models import JobRun


async def claim_run(session: AsyncSession, job: str, due_at: datetime, now: datetime) -> bool:
    """True when this transaction claimed the run; False when it was claimed already."""
    statement = (
        upsert(session.get_bind().dialect.name, JobRun)
        .values(job=job, due_at=due_at, claimed_at=now)
        .on_conflict_do_nothing(index_elements=["job", "due_at"])
    )
    result = await session.execute(statement)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def forget_runs(session: AsyncSession, before: datetime) -> int:
    """Drop the record of runs due before `before` (they cannot be due again)."""
    result = await session.execute(delete(JobRun).where(JobRun.due_at < before))
    return int(result.rowcount)  # type: ignore[attr-defined]
