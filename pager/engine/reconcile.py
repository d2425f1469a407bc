"""The reconciler: rows whose deadline passed while they were `sending` (the
sender crashed, hung or lost its database), and cancellations to count.

A row whose request never started goes back to `pending`, as if never
claimed: nothing can have reached the provider. One whose request started
becomes `unknown`, to be settled by asking the provider (engine/unknown.py),
never dropped and never blindly repeated. Pages cancelled in bulk (an ack or a
resolve, store/incidents.py) are counted in pager_notifications_total here,
where the metrics live.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from pager.core.vocabulary import EventKind, NotificationState
from pager.metrics import Metrics
from pager.store.claims import claim_deadlines, deadline_passed
from pager.store.db import Database
from pager.store.models import Notification
from pager.store.outbox import row_event

log = logging.getLogger("pager.engine.sender")  # one logger for every send line
BATCH = 100


class Reconciler:
    def __init__(self, db: Database, metrics: Metrics) -> None:
        self.db, self.metrics = db, metrics

    async def run(self, now: datetime) -> int:
        async with self.db.read() as session:
            if not await deadline_passed(
                session, (NotificationState.SENDING, NotificationState.CANCELLED), now
            ):
                return 0
        skip_locked = not self.db.is_sqlite
        async with self.db.write() as session:
            stuck = await claim_deadlines(
                session, NotificationState.SENDING, now, BATCH, skip_locked
            )
            for row in stuck:
                if row.started_at is None:
                    self._release(row)
                else:
                    self._unknown(session, row, now)
            cancelled = await claim_deadlines(
                session, NotificationState.CANCELLED, now, BATCH, skip_locked
            )
            for channel, n in Counter(r.channel for r in cancelled).items():
                self.metrics.notifications.labels(channel, NotificationState.CANCELLED).inc(n)
            for row in cancelled:
                row.deadline = None
        return len(stuck) + len(cancelled)

    def _release(self, row: Notification) -> None:
        """Claimed, never started: pending again, the attempt not counted."""
        row.state, row.lease, row.deadline = NotificationState.PENDING, None, None
        row.attempts = max(0, row.attempts - 1)
        log.info(
            "claim expired before its request started; pending again",
            extra={"notification_id": row.id, "incident_id": row.incident_id},
        )

    def _unknown(self, session: AsyncSession, row: Notification, now: datetime) -> None:
        """Started, no result: it may have reached the provider. Ask it (at once:
        the request started at least a send timeout ago)."""
        row.state, row.deadline = NotificationState.UNKNOWN, now
        self.metrics.notifications.labels(row.channel, NotificationState.UNKNOWN).inc()
        row_event(
            session,
            row,
            now,
            EventKind.NOTIFICATION_UNKNOWN,
            error="no result recorded before its deadline",
        )
        log.warning(
            "send of unknown fate: the provider will be asked",
            extra={"notification_id": row.id, "incident_id": row.incident_id},
        )
