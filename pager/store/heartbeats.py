"""Repository functions for heartbeats: pings, and the incidents of missing ones.

Callers own the transaction (`Database.write()`); nothing here commits.
A heartbeat's row holds its last ping and the incident opened for its current
silence (`incident_id`, cleared by the next ping). Rows are locked while
changed, so a ping and the watcher (or two replicas) cannot both act on one
silence. The incident of a missing heartbeat is opened through
`record_alerts`, like any alert: same open-key uniqueness, same timeline,
same escalation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from pager.core.alert import AlertIn
from pager.core.classify import Classification
from pager.core.heartbeat import Missing
from pager.core.via import Via
from pager.core.vocabulary import EventKind, IncidentState
from pager.policy.durations import format_duration
from pager.store.incidents import IngestContext, add_event, get_for_update, record_alerts, resolve
from pager.store.maintenance import Suppressor
from pager.store.models import Alert, Heartbeat, Incident

SOURCE = Via.HEARTBEAT


async def all_heartbeats(session: AsyncSession) -> Sequence[Heartbeat]:
    return (await session.execute(select(Heartbeat))).scalars().all()


async def lock(session: AsyncSession, name: str) -> Heartbeat:
    """The heartbeat's row, locked; created (never pinged) when it is not there yet."""
    found = await session.execute(select(Heartbeat).where(Heartbeat.name == name).with_for_update())
    row = found.scalar_one_or_none()
    if row is None:
        row = Heartbeat(name=name, last_seen=None, incident_id=None)
        session.add(row)
        await session.flush()  # two replicas inserting at once: IntegrityError, retried
    return row


async def record_ping(session: AsyncSession, name: str, now: datetime) -> int | None:
    """Note a ping; resolve the incident of the silence it ends. Returns that incident."""
    row = await lock(session, name)
    row.last_seen = now
    incident_id, row.incident_id = row.incident_id, None
    if incident_id is None:
        return None
    incident = await get_for_update(session, incident_id)
    if incident.state == IncidentState.RESOLVED:
        return None  # someone resolved it by hand already
    await session.execute(
        update(Alert)
        .where(Alert.incident_id == incident_id, Alert.status == "firing")
        .values(status="resolved", ends_at=now, last_seen=now)
    )
    add_event(session, incident_id, now, EventKind.HEARTBEAT_BACK, SOURCE, heartbeat=name)
    await resolve(session, incident, now, None, SOURCE, reason=f"heartbeat {name} is back")
    return incident_id


async def raise_missing(
    session: AsyncSession,
    row: Heartbeat,
    missing: Missing,
    policy_version_id: int,
    suppressed: Suppressor,
    now: datetime,
) -> tuple[int, bool]:
    """Open (or join) the incident of a silent heartbeat; (incident id, newly opened)."""
    beat = missing.beat
    every = format_duration(beat.expect_every)
    alert = AlertIn(
        fingerprint=hashlib.sha256(f"heartbeat\x00{beat.name}".encode()).hexdigest()[:16],
        status="firing",
        labels={"alertname": "HeartbeatMissing", "heartbeat": beat.name},
        annotations={"summary": f"no ping from heartbeat {beat.name} for {every}"},
        group_key=f"heartbeat:{beat.name}",
        source=SOURCE,
    )
    ruled = Classification(beat.rule_index, beat.priority, beat.escalation)
    ctx = IngestContext(
        classify=lambda _labels: ruled,
        policy_version_id=policy_version_id,
        suppressed=suppressed,
    )
    result = await record_alerts(session, [alert], ctx, now)
    incident_id = next(iter(result.touched))
    opened = incident_id in result.opened
    if opened:
        incident = await session.get(Incident, incident_id)
        if incident is not None:
            incident.title = f"Heartbeat {beat.name} missing"
        add_event(
            session,
            incident_id,
            now,
            EventKind.HEARTBEAT_MISSING,
            SOURCE,
            heartbeat=beat.name,
            expect_every=every,
            last_seen=missing.last_seen.isoformat() if missing.last_seen else None,
        )
    row.incident_id = incident_id
    return incident_id, opened
