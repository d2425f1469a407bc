"""The sender: claims due notifications, hands them to the Notifier after commit,
and records what happened.

Claim and result are two transactions with the send between them, outside
any transaction and bounded in time. A crash after the claim leaves the row
`sending` until its deadline; the reconciler then marks it `unknown` (and a P1
page goes out once more). So a page is never lost, and in normal operation
never sent twice: each row is claimed by exactly one sender.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from pager.core import delivery
from pager.engine.delivery import fall_back
from pager.engine.throttle import Throttler
from pager.metrics import Metrics
from pager.notify.base import Kind, Message, Notifier, Outcome, SendResult
from pager.policy.runtime import PolicyRuntime
from pager.store.db import Database
from pager.store.incidents import TRIGGERED, add_event, load_incidents
from pager.store.models import Incident, Notification
from pager.store.outbox import claim_notifications, claim_stuck

log = logging.getLogger(__name__)
BATCH = 100
# States a provider callback may set while the send is still being recorded.
CALLBACK_STATES = ("delivered", "failed_perm")


@dataclass(frozen=True)
class Claimed:
    message: Message
    priority: str


class Sender:
    def __init__(
        self,
        db: Database,
        notifier: Notifier,
        policies: PolicyRuntime,
        metrics: Metrics,
        send_timeout: float,
    ) -> None:
        self.db, self.notifier, self.policies, self.metrics = db, notifier, policies, metrics
        self.send_timeout = send_timeout
        self.throttler = Throttler(policies, postgres=not db.is_sqlite)

    async def run(self, now: datetime) -> int:
        claimed = await self._claim(now)
        if not claimed:
            return 0
        results = await asyncio.gather(*(self._send(c.message) for c in claimed))
        await self._record(list(zip(claimed, results, strict=True)), now)
        return len(claimed)

    async def _claim(self, now: datetime) -> list[Claimed]:
        deadline = now + timedelta(seconds=self.send_timeout * 2 + 5)
        claimed: list[Claimed] = []
        async with self.db.write() as session:
            rows = await claim_notifications(session, now, BATCH, not self.db.is_sqlite)
            await self.throttler.lock(session, rows)
            # One read of their incidents; _still_wanted then finds them in the session.
            ids = {r.incident_id for r in rows if r.incident_id is not None}
            await load_incidents(session, list(ids))
            for row in rows:
                if not await self._still_wanted(session, row, now):
                    continue
                if not await self._filled(session, row):
                    row.state = "cancelled"  # everything in it was acknowledged meanwhile
                    continue
                if await self.throttler.hold(session, row, now):
                    if row.state == "throttled":
                        self.metrics.notifications.labels(row.channel, "throttled").inc()
                    continue
                row.state, row.attempts, row.deadline = "sending", row.attempts + 1, deadline
                claimed.append(Claimed(_message(row), row.priority))
        return claimed

    async def _filled(self, session: AsyncSession, row: Notification) -> bool:
        """Bundles and digests get their text when they go; False: nothing left in it."""
        if row.kind == Kind.BUNDLE:
            return await self.throttler.fill_bundle(session, row)
        if row.kind == Kind.INFO and row.bundle_of is not None:
            return await self.throttler.fill_digest(session, row)
        return True

    async def _still_wanted(self, session: AsyncSession, row: Notification, now: datetime) -> bool:
        """A page for an incident no longer triggered is cancelled, not sent."""
        if row.kind != Kind.PAGE or row.incident_id is None:
            return True
        incident = await session.get(Incident, row.incident_id)
        if incident is not None and incident.state == TRIGGERED:
            return True
        row.state = "cancelled"
        self.metrics.notifications.labels(row.channel, "cancelled").inc()
        return False

    async def _send(self, message: Message) -> SendResult:
        try:
            async with asyncio.timeout(self.send_timeout):
                return await self.notifier.send(message)
        except TimeoutError:
            return SendResult(Outcome.UNKNOWN, error=f"no answer within {self.send_timeout}s")
        except Exception as exc:  # a notifier bug must not stop the engine
            log.exception("notifier failed", extra={"notification_id": message.notification_id})
            return SendResult(Outcome.UNKNOWN, error=f"notifier error: {exc}")

    async def _record(self, done: Sequence[tuple[Claimed, SendResult]], now: datetime) -> None:
        async with self.db.write() as session:
            for claimed, result in done:
                row = await session.get(
                    Notification,
                    claimed.message.notification_id,
                    with_for_update=not self.db.is_sqlite,
                )
                if row is None:
                    continue
                if row.state == "sending":
                    await self._apply(session, row, result, now)
                elif row.state in CALLBACK_STATES and row.sent_at is None:
                    self._accepted_late(session, row, result, now)
                # else ("unknown"): the reconciler got there first

    def _accepted_late(
        self, session: AsyncSession, row: Notification, result: SendResult, now: datetime
    ) -> None:
        """Twilio's status callback (or a machine answering the call) beat us to the
        row: it was accepted. Keep the callback's state, which is newer, but record
        the send, so that its SID, its sent_at (which the throttle counts) and its
        metrics are not lost."""
        row.deadline = None
        if result.outcome is Outcome.ACCEPTED:
            self._note(session, row, result, "sent", now)

    async def _apply(
        self, session: AsyncSession, row: Notification, result: SendResult, now: datetime
    ) -> None:
        fate = delivery.after_send(
            result.outcome, row.attempts, row.kind, row.priority, row.key.endswith(":resend"), now
        )
        row.state, row.deadline = fate.state, None
        row.error_code, row.error = result.code, result.error
        if fate.retry_at is not None:
            row.due_at = fate.retry_at
        self._note(session, row, result, fate.state, now)
        if fate.resend:
            session.add(resend_copy(row, now))
        if fate.fall_back:
            await fall_back(session, row, self.policies, now)

    def _note(
        self,
        session: AsyncSession,
        row: Notification,
        result: SendResult,
        state: str,
        now: datetime,
    ) -> None:
        """The send's facts: SID, sent_at, metrics, timeline and log."""
        row.provider_id = result.provider_id or row.provider_id
        if state == "sent":
            row.sent_at = now
            if row.alert_received_at is not None and row.kind == Kind.PAGE and row.attempts == 1:
                self.metrics.page_latency.observe(
                    max(0.0, (now - row.alert_received_at).total_seconds())
                )
        self.metrics.notifications.labels(row.channel, state).inc()
        if row.incident_id is not None:
            add_event(
                session,
                row.incident_id,
                now,
                f"notification_{state}",
                None,
                notification_id=row.id,
                person=row.person_id,
                channel=row.channel,
                message=row.kind,
                error=result.error,
                code=result.code,
            )
        log.info(
            "notification %s",
            state,
            extra={
                "notification_id": row.id,
                "incident_id": row.incident_id,
                "person": row.person_id,
                "channel": row.channel,
                "step": row.step,
            },
        )


class Reconciler:
    """Rows left `sending` past their deadline (a crash or hang): mark them unknown."""

    def __init__(self, db: Database, metrics: Metrics) -> None:
        self.db, self.metrics = db, metrics

    async def run(self, now: datetime) -> int:
        async with self.db.write() as session:
            stuck = await claim_stuck(session, now, BATCH, not self.db.is_sqlite)
            for row in stuck:
                row.state, row.deadline = "unknown", None
                self.metrics.notifications.labels(row.channel, "unknown").inc()
                resend = delivery.should_resend(row.kind, row.priority, row.key.endswith(":resend"))
                if row.incident_id is not None:
                    add_event(
                        session,
                        row.incident_id,
                        now,
                        "notification_unknown",
                        None,
                        notification_id=row.id,
                        person=row.person_id,
                        channel=row.channel,
                        resend=resend,
                    )
                if resend:
                    session.add(resend_copy(row, now))
        return len(stuck)


def resend_copy(row: Notification, now: datetime) -> Notification:
    return Notification(
        key=f"{row.key}:resend",
        incident_id=row.incident_id,
        person_id=row.person_id,
        phone=row.phone,
        channel=row.channel,
        kind=row.kind,
        priority=row.priority,
        step=row.step,
        body=row.body,
        state="pending",
        due_at=now,
        attempts=0,
        created_at=now,
        alert_received_at=None,
        bundle_of=row.bundle_of,
    )


def _message(row: Notification) -> Message:
    return Message(
        notification_id=row.id,
        incident_id=row.incident_id,
        person_id=row.person_id,
        phone=row.phone,
        channel=row.channel,  # type: ignore[arg-type]
        kind=Kind(row.kind),
        body=row.body,
    )
