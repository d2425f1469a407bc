"""Every cron-like job runs once per cluster and due time (issue 15): two apps,
each with its own engine and connection pool, share one database (SQLite and
PostgreSQL), and both fire every job their scheduler holds, together and
repeatedly, as two replicas' schedulers would. Time is the FakeClock's.

The jobs are taken from `schedule_jobs` itself, so a job added there later
without a claim is run here twice over too.
"""

from __future__ import annotations

import asyncio
import errno
import logging
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import select

from pager.app import create_app, schedule_jobs, start_scheduler
from pager.clock import FakeClock
from pager.services import Pager
from pager.settings import Settings
from pager.store.db import Database
from pager.store.models import JobRun, Notification
from tests.fakes.fake_notifier import FakeNotifier
from tests.harness import API_TOKEN, WEBHOOK_TOKEN, Harness, write_policy
from tests.web.part2 import PART2_POLICY

Job = Callable[[], Awaitable[Any]]


@pytest.fixture
async def replicas(
    db: Database, db_url: str, tmp_path: Path, clock: FakeClock, aiohttp_client: Any
) -> AsyncIterator[tuple[Harness, Harness]]:
    """Two apps on one (empty, migrated) database; the engines are driven by the test."""
    policies = write_policy(tmp_path / "policies", PART2_POLICY)
    settings = Settings(
        database_url=db_url, policies=policies, webhook_token=WEBHOOK_TOKEN, api_token=API_TOKEN
    )
    second = Database(db_url)
    harnesses = []
    for database in (db, second):
        notifier = FakeNotifier()
        app = create_app(settings, clock=clock, notifier=notifier, db=database, run_engine=False)
        harnesses.append(Harness(await aiohttp_client(app), clock, notifier))
    try:
        yield harnesses[0], harnesses[1]
    finally:
        await second.close()


def scheduled(pager: Pager) -> dict[str, Job]:
    """The jobs `pager serve` schedules, by id (the scheduler is never started)."""
    scheduler = AsyncIOScheduler()
    schedule_jobs(scheduler, pager)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    return {ident: _call(job.func, job.args, job.kwargs) for ident, job in jobs.items()}


def _call(func: Callable[..., Awaitable[Any]], args: Any, kwargs: Any) -> Job:
    return lambda: func(*args, **kwargs)


async def fire_everywhere(jobs: list[Job], times: int = 3) -> None:
    """Every replica fires every job at once, `times` over (misfires, restarts)."""
    for _ in range(times):
        await asyncio.gather(*(job() for job in jobs))


async def infos(db: Database) -> Counter[tuple[str, str]]:
    """The messages queued, by person and what they are (the key's first part)."""
    async with db.read() as session:
        rows = (await session.execute(select(Notification))).scalars().all()
    return Counter((r.person_id, r.key.split(":")[0]) for r in rows)


async def test_every_scheduled_job_runs_once_per_due_time_across_two_replicas(
    replicas: tuple[Harness, Harness],
) -> None:
    a, b = replicas
    assert set(scheduled(a.pager)) == {"daily-reminders", "handoff-notices"}  # no engine tick
    jobs = [*scheduled(a.pager).values(), *scheduled(b.pager).values()]
    incident = await a.fire("alertname=Down")  # P2, acknowledged at once: no pages
    await a.post(f"/api/v1/incidents/{incident}/ack", {"by": "alice"})
    await a.post(
        f"/api/v1/incidents/{incident}/actions",
        {"title": "Fix it", "owner": "bob", "due": "2026-03-20T00:00:00Z"},
        status=201,
    )

    # Wed 25 March: bob takes `daily` at 09:00 (GMT), told an hour before; the
    # reminders' cron is at 09:00 UTC. Both fire at each instant on both replicas.
    for hour, minute in ((8, 0), (8, 30), (9, 0)):
        a.clock.set(datetime(2026, 3, 25, hour, minute, tzinfo=UTC))
        await fire_everywhere(jobs)
    assert await infos(a.pager.db) == {("bob", "handoff"): 1, ("bob", "reminder"): 1}

    # Thursday: carol's handoff, and the item is still overdue: one of each again.
    for hour, minute in ((8, 0), (8, 59), (9, 0)):
        a.clock.set(datetime(2026, 3, 26, hour, minute, tzinfo=UTC))
        await fire_everywhere(jobs)
    assert await infos(b.pager.db) == {
        ("bob", "handoff"): 1,
        ("carol", "handoff"): 1,
        ("bob", "reminder"): 2,
    }
    async with a.pager.db.read() as session:
        runs = Counter((await session.execute(select(JobRun.job))).scalars().all())
    assert runs == {"daily-reminders": 2, "handoff:daily": 2}  # a row per job and due time

    for h in (a, b):  # and each is sent once, by whichever engine claims it
        await h.settle()
    sent = sorted(m.person_id for h in (a, b) for m in h.notifier.sent)
    assert sent == ["bob", "bob", "bob", "carol"]


async def test_a_scheduler_that_cannot_start_is_tried_again_and_said_in_one_line(
    replicas: tuple[Harness, Harness], caplog: pytest.LogCaptureFixture
) -> None:
    """No file descriptor left while APScheduler reads its entry points (seen
    under fd exhaustion at start): one line, then the jobs start after all."""
    a, _ = replicas
    calls = 0

    def out_of_files_once() -> type[AsyncIOScheduler]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OSError(errno.EMFILE, "Too many open files", "entry_points.txt")
        return AsyncIOScheduler  # type: ignore[no-any-return]  # APScheduler has no types

    with caplog.at_level(logging.WARNING, logger="pager.app"):
        scheduler = await start_scheduler(a.pager, out_of_files_once, retry_after=0)
    try:
        assert calls == 2
        assert scheduler.running
        assert {job.id for job in scheduler.get_jobs()} == {"daily-reminders", "handoff-notices"}
        [line] = [r for r in caplog.records if "could not start" in r.getMessage()]
        assert "Too many open files" in line.getMessage()
        assert line.exc_info is None
    finally:
        scheduler.shutdown(wait=False)
