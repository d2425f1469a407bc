"""Periodic jobs run once per cluster: replicas racing for one run, on PostgreSQL
(and the claim itself on both databases)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from pager.clock import FakeClock
from pager.engine.handoffs import HandoffNotices
from pager.engine.jobs import once
from pager.engine.policy_runtime import PolicyRuntime
from pager.store.db import Database
from pager.store.jobs import claim_run, forget_runs
from pager.store.models import JobRun, Notification
from tests.conftest import truncate
from tests.harness import write_policy
from tests.web.part2 import PART2_POLICY

DUE = datetime(2026, 3, 25, 9, 0, tzinfo=UTC)


async def test_a_run_is_claimed_once_and_a_failed_one_not_at_all(db: Database) -> None:
    async with db.write() as session:
        assert await claim_run(session, "daily-reminders", DUE, DUE)
    async with db.write() as session:
        assert not await claim_run(session, "daily-reminders", DUE, DUE)
        assert await claim_run(session, "daily-reminders", DUE + timedelta(days=1), DUE)

    async def broken(_session: object) -> int:
        raise RuntimeError("the work failed")

    with pytest.raises(RuntimeError):
        await once(db, "handoff:daily", DUE, DUE, broken)

    async def works(_session: object) -> int:
        return 7

    assert await once(db, "handoff:daily", DUE, DUE, works) == 7
    assert await once(db, "handoff:daily", DUE, DUE, works) is None
    async with db.write() as session:
        assert await forget_runs(session, DUE + timedelta(hours=1)) == 2
        assert await session.scalar(select(func.count()).select_from(JobRun)) == 1


@pytest.mark.postgres
async def test_replicas_racing_send_each_handoff_notice_once(pg_url: str, tmp_path: Path) -> None:
    policies = write_policy(tmp_path / "policies", PART2_POLICY)
    clock = FakeClock(datetime(2026, 3, 25, 8, 30, tzinfo=UTC))  # bob's 09:00 handoff is due
    databases = [Database(pg_url, pool_size=4) for _ in range(4)]
    try:
        await truncate(databases[0])
        jobs = []
        for db in databases:
            runtime = PolicyRuntime(policies, db, clock)
            assert await runtime.reload() == ()
            jobs.append(HandoffNotices(db, clock, runtime, lambda: None))
        for _ in range(5):  # every replica's scheduler fires, several times over
            queued = await asyncio.gather(*(job.run() for job in jobs))
            assert sum(queued) <= 1
        async with databases[0].read() as session:
            rows = (await session.execute(select(Notification))).scalars().all()
        assert [(r.person_id, r.kind) for r in rows] == [("bob", "info")]
        assert "daily from Wed 25 Mar 09:00" in rows[0].body
    finally:
        for db in databases:
            await db.close()


async def test_the_daily_reminders_run_once_a_day_and_forget_old_runs(make_harness) -> None:
    from pager.practice.reminders import daily_reminders

    h = await make_harness(PART2_POLICY)
    ident = await h.fire("alertname=Down", "severity=critical")
    await h.post(
        f"/api/v1/incidents/{ident}/actions",
        {"title": "Fix it", "owner": "bob", "due": "2026-01-06T00:00:00Z"},
        status=201,
    )
    await h.settle()
    h.notifier.expect_each(("alice", "sms", "#1 Down"), ("frank", "sms", "#1 OPENED"))
    h.clock.set(datetime(2026, 1, 8, 9, 0, tzinfo=UTC))
    assert await daily_reminders(h.pager) == 1
    assert await daily_reminders(h.pager) is None  # another replica's, or this one's again
    await h.settle()
    h.notifier.expect("bob", "sms", "action item 1 from #1 is overdue")
    # the three days, unacknowledged, also took #1 through its levels (daily: alice's turn)
    h.notifier.expect_each(
        ("alice", "voice", "Down"), ("bob", "sms", "#1 Down"), ("alice", "sms", "#1 Down")
    )
    h.notifier.expect("alice", "voice", "Down")
    h.clock.set(datetime(2026, 2, 20, 9, 0, tzinfo=UTC))
    assert await daily_reminders(h.pager) == 1
    async with h.pager.db.read() as session:
        runs = (await session.execute(select(JobRun.due_at))).scalars().all()
    assert runs == [datetime(2026, 2, 20, 9, 0, tzinfo=UTC)]  # January's is forgotten
