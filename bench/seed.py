"""Seed a database directly with open incidents whose escalation timers fall due.

Bulk inserts through pager's own models (`pager.store.models`), after pager's
own migration and policy load, so the daemon finds exactly what it would have
written itself: incident `i` is at level 0 of escalation policy `e<i % people>`,
its ack timeout due at `due[i]`, with one firing alert.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

from pager.clock import SystemClock
from pager.engine.policy_runtime import PolicyRuntime
from pager.store.db import Database
from pager.store.migrate import migrate
from pager.store.models import Alert, Incident

CHUNK = 1000


async def seed_timers(url: str, policies: Path, due: Sequence[float], people: int) -> None:
    """Insert len(due) open incidents; `due` are wall-clock timestamps (time.time())."""
    db = Database(url)
    try:
        await migrate(db)
        runtime = PolicyRuntime(policies, db, SystemClock())
        errors = await runtime.reload()
        if errors:
            raise RuntimeError(f"bench policy invalid: {errors}")
        version = runtime.active.version_id
        created = datetime.now(UTC) - timedelta(minutes=5)
        for start in range(0, len(due), CHUNK):
            ids = range(start + 1, min(start + CHUNK, len(due)) + 1)
            async with db.write() as session:
                await session.execute(
                    insert(Incident),
                    [_incident(i, due[i - 1], people, version, created) for i in ids],
                )
                await session.execute(insert(Alert), [_alert(i, created) for i in ids])
        if not db.is_sqlite:
            async with db.write() as session:
                await session.execute(
                    text(
                        "SELECT setval(pg_get_serial_sequence('incidents', 'id'), "
                        "(SELECT max(id) FROM incidents))"
                    )
                )
                await session.execute(
                    text(
                        "SELECT setval(pg_get_serial_sequence('alerts', 'id'), "
                        "(SELECT max(id) FROM alerts))"
                    )
                )
    finally:
        await db.close()


def _incident(
    i: int, due: float, people: int, version: int, created: datetime
) -> dict[str, object]:
    at = datetime.fromtimestamp(due, UTC)
    return {
        "id": i,
        "group_key": f'{{}}:{{group="t{i}"}}',
        "open_key": f"bench-timer-{i}",
        "source": "alertmanager",
        "title": f"BenchTimer t{i}",
        "summary": "seeded by bench",
        "runbook_url": None,
        "labels": {"alertname": "BenchTimer", "group": f"t{i}", "severity": "critical"},
        "priority": "P1",
        "original_priority": "P1",
        "escalation_policy": f"e{i % people}",
        "rule_index": 0,
        "policy_version_id": version,
        "state": "triggered",
        "drill": False,
        "suppressed": False,
        "created_at": created,
        "level": 0,
        "loop": 0,
        "step": 1,
        "escalate_at": at,
        "paging_since": created,
        "next_action_at": at,
        "held": False,
        "exhausted": False,
    }


def _alert(i: int, created: datetime) -> dict[str, object]:
    return {
        "id": i,
        "incident_id": i,
        "fingerprint": f"{i:016x}",
        "status": "firing",
        "labels": {"alertname": "BenchTimer", "group": f"t{i}", "severity": "critical"},
        "annotations": {"summary": "seeded by bench"},
        "starts_at": created,
        "ends_at": None,
        "generator_url": "",
        "first_seen": created,
        "last_seen": created,
        "count": 1,
    }
