"""Settling sends of unknown fate by asking the provider, for every priority.

An `unknown` row's request started but its result was never recorded (a
timeout after the body was written, a reset, a crash). In a send slot, the
provider is asked for its messages (or calls) to that number from our number
since the attempt started (Notifier.find_sent):
- found, and no other row holds that id: it went out; recorded as sent with it;
- not found: it did not; sent again (until its level's ack timeout, then the
  person's next channel is tried);
- the provider cannot be asked: a P1 page (or bundle) is sent once more, a
  duplicate beats a miss; a P2 page moves its incident to the next level now.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from pager.clock import Clock
from pager.core import delivery
from pager.core.vocabulary import EventKind, NotificationState
from pager.engine.fallback import escalate_early, fall_back
from pager.engine.outcomes import Recorder, give_up_at, locked, message_of
from pager.engine.policy_runtime import PolicyRuntime
from pager.engine.slots import Slots
from pager.metrics import Metrics
from pager.notify.base import LookupFailed, Message, Notifier
from pager.store import notification_rows
from pager.store.claims import claim_deadlines, deadline_passed
from pager.store.db import Database
from pager.store.models import Incident, Notification
from pager.store.notifications import recorded_ids
from pager.store.outbox import row_event

log = logging.getLogger("pager.engine.sender")  # one logger for every send line


@dataclass(frozen=True)
class _Question:
    notification_id: int
    lease: str
    message: Message
    since: datetime

    @property
    def incident_id(self) -> int | None:
        return self.message.incident_id


class UnknownResolver:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        notifier: Notifier,
        policies: PolicyRuntime,
        metrics: Metrics,
        slots: Slots,
        recorder: Recorder,
        *,
        send_timeout: float,
    ) -> None:
        self.db, self.clock, self.notifier, self.policies = db, clock, notifier, policies
        self.metrics, self.slots, self.recorder = metrics, slots, recorder
        self.send_timeout = send_timeout

    async def run(self, now: datetime) -> int:
        """Claim unknown rows due for a lookup, as many as there are free slots."""
        if self.slots.free <= 0:
            return 0
        async with self.db.read() as session:
            if not await deadline_passed(session, (NotificationState.UNKNOWN,), now):
                return 0
        lease = secrets.token_hex(8)
        async with self.db.write() as session:
            rows = await claim_deadlines(
                session, NotificationState.UNKNOWN, now, self.slots.free, not self.db.is_sqlite
            )
            questions = [self._lease(row, lease, now) for row in rows]
        for q in questions:
            self.slots.start(self._ask(q), name=f"lookup-{q.notification_id}")
        return len(questions)

    def _lease(self, row: Notification, lease: str, now: datetime) -> _Question:
        row.lease = lease
        row.deadline = now + timedelta(seconds=self.send_timeout + 5)  # if we die asking
        return _Question(row.id, lease, message_of(row), row.started_at or row.created_at)

    async def _ask(self, q: _Question) -> None:
        try:
            async with asyncio.timeout(self.send_timeout + 1):
                found: Sequence[str] | None = await self.notifier.find_sent(q.message, q.since)
            error = ""
        except (LookupFailed, TimeoutError) as exc:
            found, error = None, str(exc) or "no answer"
        except Exception as exc:  # a notifier bug: the same as not being able to ask
            log.exception("lookup failed", extra={"notification_id": q.notification_id})
            found, error = None, f"notifier error: {exc}"
        await self.recorder.commits.run(lambda session: self._answer(session, q, found, error))
        self.recorder.made_work = True  # sent again, escalated early, fallen back: plan again

    async def _answer(
        self, session: AsyncSession, q: _Question, found: Sequence[str] | None, error: str
    ) -> None:
        now = self.clock.now()
        # Locked first: the answer may escalate or fall back, which moves the incident.
        incident, row = await locked(session, q.notification_id, q.incident_id, True)
        if row is None or row.lease != q.lease or row.state != NotificationState.UNKNOWN:
            return
        row.lease, row.deadline = None, None
        if found is None:
            await self._unanswered(session, row, incident, now, error)
            return
        # A status callback may have named the sid already (twilio_hooks/status.py).
        known = await recorded_ids(session, list(found), but=row.id)
        sid = row.provider_id if row.provider_id in found else delivery.pick_unclaimed(found, known)
        if sid is not None:
            await self._found(session, row, sid, now)
        else:
            await self._not_found(session, row, incident, now)

    async def _found(
        self, session: AsyncSession, row: Notification, sid: str, now: datetime
    ) -> None:
        self.metrics.unknown_resolved.labels("found").inc()
        row.state, row.sent_at, row.error = NotificationState.SENT, row.started_at or now, None
        await self.recorder.note(
            session, row, NotificationState.SENT, now, sid, found_by_lookup=True
        )

    async def _not_found(
        self, session: AsyncSession, row: Notification, incident: Incident | None, now: datetime
    ) -> None:
        self.metrics.unknown_resolved.labels("not_found").inc()
        give_up = give_up_at(row, incident, now)
        row_event(session, row, now, EventKind.NOTIFICATION_NOT_FOUND, send_again=now < give_up)
        if now < give_up:
            row.state, row.due_at, row.started_at = NotificationState.PENDING, now, None
            return
        row.state, row.error = (
            NotificationState.FAILED_PERM,
            "not sent, and retried until its level's ack timeout",
        )
        await self.recorder.note(session, row, NotificationState.FAILED_PERM, now, None)
        await fall_back(session, row, self.policies, now)

    async def _unanswered(
        self,
        session: AsyncSession,
        row: Notification,
        incident: Incident | None,
        now: datetime,
        error: str,
    ) -> None:
        self.metrics.unknown_resolved.labels("unavailable").inc()
        what = delivery.unanswered(row.kind, row.priority, row.key.endswith(":resend"))
        row_event(session, row, now, EventKind.NOTIFICATION_UNANSWERED, then=str(what), error=error)
        log.warning(
            "provider could not be asked about an unknown send: %s",
            what,
            extra={"notification_id": row.id, "incident_id": row.incident_id, "error": error},
        )
        if what is delivery.Unanswered.RESEND:
            session.add(notification_rows.resend(row, now))
        elif what is delivery.Unanswered.ESCALATE and incident is not None:
            escalate_early(session, incident, row, now, EventKind.UNKNOWN_ESCALATED)
