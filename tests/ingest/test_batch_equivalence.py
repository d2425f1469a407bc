"""Group commit changes nothing but speed: webhooks recorded in batches leave exactly
what the same webhooks recorded one by one leave (SQLite and PostgreSQL).

Hypothesis draws a sequence of webhooks over a few groups and alerts: new
groups, repeats, partial and full resolves, duplicates inside one webhook and
inside one batch, several webhooks for one group in one batch, generic alerts
resolved by their key alone (the fallback lookup that folds again), a rule
with `group_by` that joins groups, a maintenance window and Watchdog pings.
It cuts the sequence into batches. Each batch is handed to the writer at once
(and the test checks it was one transaction), then the database is emptied
and the same sequence is recorded one webhook at a time. Incidents, alerts,
timelines, heartbeats and every webhook's own answer must be the same.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from pager.clock import FakeClock
from pager.core.alert import AlertIn
from pager.engine.alert_writer import Writer
from pager.engine.policy_runtime import PolicyRuntime
from pager.ingest.payloads import parse_alertmanager, parse_generic
from pager.metrics import Metrics
from pager.store.db import Database
from pager.store.incidents import IngestResult
from pager.store.maintenance import MaintenanceCache
from pager.store.models import Alert, Event, Heartbeat, Incident, MaintenanceWindow, Notification
from tests.harness import write_policy
from tests.scenario.policies import BASE

POLICY = BASE.replace(
    "rules:\n",
    """rules:
  - matchers: ['alertname="Watchdog"']
    heartbeat: {expect_every: 5m, priority: P1, escalation: platform}
  - matchers: ['team="db"']
    group_by: [team]
    priority: P2
    escalation: platform
""",
    1,
)
GROUPS, ALERTS = 4, 4

alert = st.tuples(
    st.integers(0, ALERTS - 1), st.sampled_from(["firing", "resolved"]), st.booleans()
)
am_hook = st.tuples(
    st.just("am"), st.integers(0, GROUPS - 1), st.lists(alert, min_size=1, max_size=5)
)
generic_hook = st.tuples(
    st.just("generic"), st.integers(0, 2), st.sampled_from(["firing", "resolved"])
)
watchdog: st.SearchStrategy[tuple[str, int, list[Any]]] = st.tuples(
    st.just("watchdog"), st.just(0), st.just([])
)
hook = st.one_of(am_hook, am_hook, generic_hook, watchdog)
sequences = st.lists(st.lists(hook, min_size=1, max_size=6), min_size=1, max_size=6)


def _webhook(drawn: tuple[Any, ...]) -> list[AlertIn]:
    kind, group, rest = drawn
    if kind == "generic":
        fire = {"summary": "disk full", "labels": {"severity": "critical", "n": str(group)}}
        body = fire if rest == "firing" else {"status": "resolved"}
        return parse_generic(json.dumps({**body, "dedup_key": f"k{group}"}).encode())
    if kind == "watchdog":
        return parse_alertmanager(_am("wd", [({"alertname": "Watchdog"}, "firing")]))
    alerts = []
    for n, status, db_team in rest:
        labels = {"alertname": "Down", "group": f"g{group}", "instance": f"i{n}"}
        labels |= {"team": "db"} if db_team else {"severity": "critical"}
        alerts.append((labels, status))
    return parse_alertmanager(_am(f"g{group}", alerts))


def _am(group: str, alerts: list[tuple[dict[str, str], str]]) -> bytes:
    items = [
        {
            "status": status,
            "labels": labels,
            "annotations": {"summary": f"{labels.get('instance')} is {status}"},
            "startsAt": "2026-01-05T08:00:00Z",
            "endsAt": "2026-01-05T08:59:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
            "fingerprint": f"{labels.get('group', 'wd')}-{labels.get('instance', 'x')}",
        }
        for labels, status in alerts
    ]
    status = "resolved" if all(s == "resolved" for _, s in alerts) else "firing"
    body = {"version": "4", "status": status, "groupKey": f"{{}}:{{{group}}}", "alerts": items}
    return json.dumps(body).encode()


async def _empty(db: Database) -> None:
    async with db.write() as session:
        for model in (Event, Alert, Notification, Heartbeat, Incident):
            await session.execute(delete(model))


async def _record(
    writer: Writer, clock: FakeClock, batches: list[list[list[AlertIn]]], batched: bool
) -> list[IngestResult]:
    answers: list[IngestResult] = []
    start = clock.now()
    for i, batch in enumerate(batches):
        clock.set(start + timedelta(minutes=i))
        if batched:
            done = await asyncio.gather(*(writer.record(hook) for hook in batch))
        else:
            done = [await writer.record(hook) for hook in batch]
        answers += [d.result for d in done]
    clock.set(start)
    return answers


async def _snapshot(db: Database, answers: list[IngestResult]) -> dict[str, Any]:
    """Everything recorded, with incidents named by their order of opening, not their ids."""
    async with db.read() as session:
        incidents = (await session.execute(select(Incident).order_by(Incident.id))).scalars().all()
        number = {i.id: n for n, i in enumerate(incidents)}
        alerts = (await session.execute(select(Alert))).scalars().all()
        events = (await session.execute(select(Event).order_by(Event.id))).scalars().all()
        beats = (await session.execute(select(Heartbeat))).scalars().all()
    skip = {"id"}
    return {
        "incidents": [_row(i, skip) for i in incidents],
        "alerts": sorted(
            (number[a.incident_id], a.fingerprint, repr(_row(a, skip | {"incident_id"})))
            for a in alerts
        ),
        "timelines": [
            (number[e.incident_id], e.at, e.kind, e.actor, json.dumps(e.detail, sort_keys=True))
            for e in sorted(events, key=lambda e: (number[e.incident_id], e.id))
        ],
        "heartbeats": sorted((b.name, b.last_seen, number.get(b.incident_id or 0)) for b in beats),
        "answers": [
            (
                [number[i] for i in a.opened],
                a.opened_priorities,
                [number[i] for i in a.resolved],
                sorted(number[i] for i in a.touched),
                a.ignored,
            )
            for a in answers
        ],
    }


def _row(obj: Any, skip: set[str]) -> dict[str, Any]:
    return {c.key: getattr(obj, c.key) for c in obj.__table__.columns if c.key not in skip}


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(drawn=sequences)
async def test_batched_ingest_equals_one_by_one(db: Database, tmp_path: Path, drawn) -> None:
    clock = FakeClock(datetime_at())
    runtime = PolicyRuntime(write_policy(tmp_path / "policies", POLICY), db, clock)
    assert await runtime.reload() == ()
    await _window(db, clock)
    metrics = Metrics()
    writer = Writer(db, clock, runtime, MaintenanceCache(), metrics.ingest_batch)
    batches = [[_webhook(h) for h in batch] for batch in drawn]
    try:
        await _empty(db)
        batched = await _snapshot(db, await _record(writer, clock, batches, batched=True))
        transactions = metrics.registry.get_sample_value("pager_ingest_batch_webhooks_count")
        assert transactions == len(batches), "each batch is one transaction"
        await _empty(db)
        alone = await _snapshot(db, await _record(writer, clock, batches, batched=False))
        assert batched == alone
    finally:
        await _empty(db)
        await writer.drain()


def datetime_at() -> datetime:
    return datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


async def _window(db: Database, clock: FakeClock) -> None:
    """A maintenance window over instance i3: its new incidents are suppressed."""
    async with db.write() as session:
        await session.execute(delete(MaintenanceWindow))
        session.add(
            MaintenanceWindow(
                matchers=['instance="i3"'],
                start=clock.now() - timedelta(hours=1),
                end=clock.now() + timedelta(hours=1),
                reason="upgrade",
                created_at=clock.now(),
            )
        )
