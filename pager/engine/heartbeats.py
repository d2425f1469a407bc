"""The heartbeat watcher, run first in each engine tick: silent heartbeats page.

Each tick reads every heartbeat's last ping, lets the pure core
(:func:`pager.core.heartbeat.decide`) say which are missing, and opens one
incident per silence at the heartbeat's priority and escalation policy
(source "heartbeat", title "Heartbeat <name> missing"). The decision is made
again under the row's lock before writing, so a ping that just arrived, or a
replica that got there first, wins. A ping resolves the incident (see
:mod:`pager.ingest.heartbeat`).

A heartbeat never pinged counts from the daemon's start, or from the policy
reload that declared it (`declare`): it is missing `expect_every` after that.
The baseline is per process, so a restart gives a never-pinged heartbeat a
fresh period; one pinged before keeps its stored `last_seen`.

Each heartbeat is raised in its own transaction: one that fails (a name its
column cannot hold, a bug) is logged, counted and tried again after a backoff,
and the other heartbeats, and the engine's later steps, go on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pager.clock import Clock
from pager.core.delivery import backoff
from pager.core.heartbeat import Decision, HeartbeatDef, Missing, decide, declared
from pager.engine.policy_runtime import Active, PolicyRuntime
from pager.metrics import Metrics
from pager.store import heartbeats as store
from pager.store.db import Database, unavailable
from pager.store.maintenance import active_suppressor
from pager.store.models import Heartbeat

log = logging.getLogger(__name__)


class HeartbeatWatcher:
    def __init__(
        self, db: Database, clock: Clock, policies: PolicyRuntime, metrics: Metrics
    ) -> None:
        self.db, self.clock, self.policies, self.metrics = db, clock, policies, metrics
        self._since: dict[str, datetime] = {}
        self._failing: dict[str, tuple[int, datetime]] = {}  # name -> (failures, retry at)
        if policies.loaded:
            self.declare(clock.now())

    def declare(self, now: datetime) -> None:
        """After a policy load: new heartbeats count from `now`; series at zero."""
        beats = declared(self.policies.active.policy)
        for beat in beats:
            self._since.setdefault(beat.name, now)
        self.metrics.declare_heartbeats(b.name for b in beats)

    async def run(self, now: datetime) -> int:
        """Open an incident for each heartbeat gone silent; returns how many."""
        if not self.policies.loaded:
            return 0
        self.declare(now)
        active = self.policies.active
        decision = await self._decide(now)
        opened = 0
        for missing in decision.missing:
            opened += await self._isolated(missing, active, now)
        return opened

    async def _isolated(self, missing: Missing, active: Active, now: datetime) -> int:
        name = missing.beat.name
        failures, retry_at = self._failing.get(name, (0, now))
        if now < retry_at:
            return 0
        try:
            opened = await self._raise(missing, active, now)
        except Exception as exc:
            if unavailable(exc):
                raise
            failures += 1
            self._failing[name] = (failures, now + backoff(failures))
            self.metrics.engine_step_errors.labels("heartbeats").inc()
            log.error(
                "heartbeat %s could not be raised; retrying later",
                name[:200],
                exc_info=exc,
                extra={"heartbeat": name[:200], "step": "heartbeats", "attempt": failures},
            )
            return 0
        self._failing.pop(name, None)
        return opened

    async def next_due(self, session: AsyncSession) -> datetime | None:
        """When the next heartbeat goes missing (the engine wakes then)."""
        if not self.policies.loaded:
            return None
        now = self.clock.now()
        self.declare(now)  # as `run` does: the runner may not have run it since a load
        return (await self._decide(now, session)).next_due

    async def _decide(self, now: datetime, session: AsyncSession | None = None) -> Decision:
        beats = declared(self.policies.active.policy)
        if not beats:  # nothing to watch, nor to publish: no read at every plan
            return Decision((), None)
        if session is None:
            async with self.db.read() as read:
                rows = await store.all_heartbeats(read)
        else:
            rows = await store.all_heartbeats(session)
        self._publish(beats, rows)
        return _decision(beats, rows, self._since, now)

    def _publish(self, beats: Sequence[HeartbeatDef], rows: Sequence[Heartbeat]) -> None:
        """The gauge from the database, so every replica shows pings any replica took."""
        names = {b.name for b in beats}
        for row in rows:
            if row.name in names and row.last_seen is not None:
                self.metrics.heartbeat_last_seen.labels(row.name).set(row.last_seen.timestamp())

    async def _raise(self, missing: Missing, active: Active, now: datetime) -> int:
        beat = missing.beat
        try:
            async with self.db.write() as session:
                row = await store.lock(session, beat.name)
                again = _decision([beat], [row], self._since, now)
                if not again.missing:
                    return 0  # pinged, or raised by another replica, meanwhile
                incident_id, opened = await store.raise_missing(
                    session,
                    row,
                    again.missing[0],
                    active.version_id,
                    await active_suppressor(session, now),
                    now,
                )
        except IntegrityError:
            log.info("heartbeat %s raced another replica; next tick", beat.name)
            return 0
        if opened:
            self.metrics.incidents_opened.labels(beat.priority).inc()
        log.warning(
            "heartbeat %s missing",
            beat.name,
            extra={"incident_id": incident_id, "heartbeat": beat.name},
        )
        return 1


def _decision(
    beats: Sequence[HeartbeatDef],
    rows: Sequence[Heartbeat],
    since: dict[str, datetime],
    now: datetime,
) -> Decision:
    last_seen = {r.name: r.last_seen for r in rows}
    raised = {r.name: r.incident_id for r in rows if r.incident_id is not None}
    return decide(beats, last_seen, raised, since, now)
