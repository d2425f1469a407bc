"""Two replicas (or two batches in flight in one) opening the same group at once on
PostgreSQL: one incident, both webhooks answered, nothing lost or doubled.

The loser's insert fails on the unique `open_key`; `Database.transact` runs its
batch again, which then finds the winner's incident and adds its alerts to it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from pager.clock import FakeClock
from pager.core.alert import AlertIn
from pager.engine.alert_writer import Writer
from pager.engine.policy_runtime import PolicyRuntime
from pager.metrics import Metrics
from pager.store.db import Database
from pager.store.maintenance import MaintenanceCache
from pager.store.models import Alert, Event, Incident
from tests.conftest import truncate
from tests.harness import write_policy
from tests.scenario.policies import BASE

pytestmark = pytest.mark.postgres
GROUPS = 25


async def _writer(url: str, policies: Path, clock: FakeClock) -> tuple[Database, Writer]:
    db = Database(url, pool_size=4)
    runtime = PolicyRuntime(policies, db, clock)
    assert await runtime.reload() == ()
    return db, Writer(db, clock, runtime, MaintenanceCache(), Metrics().ingest_batch)


def _alert(group: int, replica: int) -> AlertIn:
    labels = {"alertname": "Down", "instance": f"r{replica}", "severity": "critical"}
    return AlertIn(f"g{group}-r{replica}", "firing", labels, {"summary": "down"}, f"g{group}")


async def test_the_same_new_group_on_two_replicas_is_one_incident(
    pg_url: str, tmp_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="pager.store.db")
    db = Database(pg_url)
    await truncate(db)
    policies = write_policy(tmp_path / "policies", BASE)
    replicas = [await _writer(pg_url, policies, clock) for _ in range(2)]
    try:
        done = await asyncio.gather(
            *(w.record([_alert(g, r)]) for g in range(GROUPS) for r, (_, w) in enumerate(replicas))
        )
    finally:
        for database, writer in replicas:
            await writer.drain()
            await database.close()
    async with db.read() as session:
        incidents = (await session.execute(select(Incident))).scalars().all()
        alerts = (await session.execute(select(Alert.incident_id))).scalars().all()
        events = (await session.execute(select(Event.incident_id, Event.kind))).all()
    await db.close()
    assert any("lost a race" in r.message for r in caplog.records), "no race was run"
    assert len(incidents) == GROUPS
    assert Counter(alerts) == {i.id: 2 for i in incidents}  # both replicas' alerts, once each
    kinds = Counter(kind for _, kind in events)
    assert kinds == {"opened": GROUPS, "alert_added": GROUPS}
    opened = [i for d in done for i in d.result.opened]
    assert sorted(opened) == sorted(i.id for i in incidents)  # each opened by one of them
    touched = Counter(i for d in done for i in d.result.touched)
    assert set(touched.values()) == {2}  # and touched by both
