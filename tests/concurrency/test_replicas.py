"""Several engines on one PostgreSQL database never double-page and leave nothing stuck.

Three engines, each with its own connection pool (as three replicas would
have), tick concurrently over a few hundred incidents with short timeouts.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from pager.clock import FakeClock
from pager.core.alert import AlertIn
from pager.core.outcome import Outcome
from pager.engine.engine import Engine
from pager.engine.policy_runtime import PolicyRuntime
from pager.ingest.handlers import ingest
from pager.metrics import Metrics
from pager.notify.base import Message, SendResult
from pager.services import Pager
from pager.settings import Settings
from pager.store.db import Database
from pager.store.models import Notification
from tests.conftest import truncate
from tests.harness import write_policy

pytestmark = pytest.mark.postgres

POLICY = """
people:
  - {id: p1, phone: "+15550100001", notify: [{channel: sms}, {channel: voice, after: 30s}]}
  - {id: p2, phone: "+15550100002", notify: [{channel: sms}]}
  - {id: p3, phone: "+15550100003", notify: [{channel: sms}]}
escalation_policies:
  - id: fast
    repeat: 1
    levels:
      - {targets: [person:p1], ack_timeout: 1m}
      - {targets: [person:p2, person:p3], ack_timeout: 1m}
priorities:
  P1: {channels: [sms, voice]}
throttle: {sms: {per_15m: 100000, per_1h: 100000}, voice: {per_15m: 100000, per_1h: 100000}}
rules:
  - matchers: ['severity="critical"']
    priority: P1
    escalation: fast
    runbook: https://rb
default: {priority: P1, escalation: fast}
"""


class CountingNotifier:
    def __init__(self) -> None:
        self.sent: list[Message] = []

    async def send(self, message: Message) -> SendResult:
        self.sent.append(message)
        await asyncio.sleep(0)  # let the other engines interleave
        return SendResult(Outcome.ACCEPTED, provider_id=f"SM{message.notification_id}")

    async def find_sent(self, message: Message, since: datetime) -> Sequence[str]:
        return [f"SM{m.notification_id}" for m in self.sent if m == message]

    async def close(self) -> None:
        return None


async def until_idle(engines: list[Engine]) -> None:
    """Tick all engines together, then let their sends (and the claims each freed
    send slot makes) race each other, until none has anything left to do now."""
    for _ in range(1_000):
        handled = await asyncio.gather(*(e.tick() for e in engines))
        await asyncio.gather(*(e.drain() for e in engines))
        if not any(handled):
            return
    raise AssertionError("the engines never went idle")


async def test_three_engines_page_every_step_exactly_once(
    pg_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    policies = write_policy(tmp_path / "policies", POLICY)
    notifier = CountingNotifier()
    databases = [Database(pg_url, pool_size=4) for _ in range(3)]
    try:
        await truncate(databases[0])
        engines, pagers = [], []
        for db in databases:
            runtime = PolicyRuntime(policies, db, clock)
            assert await runtime.reload() == ()
            metrics = Metrics()
            engine = Engine(db, clock, runtime, notifier, metrics, send_timeout=5)
            engines.append(engine)
            pagers.append(
                Pager(
                    Settings(database_url=pg_url, policies=policies),
                    clock,
                    db,
                    runtime,
                    metrics,
                    notifier,
                    engine,
                )
            )
        incidents = 150
        await asyncio.gather(
            *(
                ingest(
                    pagers[i % 3],
                    [
                        AlertIn(
                            fingerprint=f"fp{i}",
                            status="firing",
                            labels={"alertname": f"A{i}", "severity": "critical"},
                            annotations={"summary": "x"},
                            group_key=f"g{i}",
                        )
                    ],
                )
                for i in range(incidents)
            )
        )
        for _ in range(8):  # 4 minutes: both levels, twice, then exhausted
            await until_idle(engines)
            clock.advance(timedelta(seconds=30))
        await until_idle(engines)

        per_row = Counter(m.notification_id for m in notifier.sent)
        assert max(per_row.values()) == 1, "a notification was sent twice"
        # per incident: p1 sms+voice, p2, p3 — in each of two loops
        assert len(notifier.sent) == incidents * 8
        async with databases[0].read() as session:
            states = dict(
                (
                    await session.execute(
                        select(Notification.state, func.count()).group_by(Notification.state)
                    )
                ).all()
            )
            keys = await session.scalar(select(func.count(func.distinct(Notification.key))))
        assert states == {"sent": incidents * 8}
        assert keys == incidents * 8
    finally:
        for db in databases:
            await db.close()
