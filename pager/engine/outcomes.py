"""Recording what a send did: the row's next state (core/delivery.py decides),
its facts (provider id, sent_at), metrics, timeline and log.

Each result is committed as soon as its request ends (on SQLite together with
others that ended at the same moment: store/group_commit.py), under the lease
the row was claimed with: a result that comes after the lease ran out (the row
was taken back, or looked up) is dropped, because someone else owns the row.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from pager.clock import Clock
from pager.core import delivery
from pager.core.outcome import Outcome
from pager.core.vocabulary import IncidentState, NotificationState, notification_event
from pager.engine.fallback import fall_back
from pager.engine.policy_runtime import PolicyRuntime
from pager.failpoints import Failpoints
from pager.metrics import Metrics
from pager.notify.base import Kind, Message, SendResult
from pager.store.claims import current_incident, lock_notification
from pager.store.db import Database
from pager.store.group_commit import GroupCommit
from pager.store.incidents import insert_event
from pager.store.models import Incident, Notification
from pager.store.notifications import page_sent_before
from pager.store.outbox import mark_sent, row_event

log = logging.getLogger("pager.engine.sender")  # one logger for every send line
# States a provider callback may set while the send is still being recorded.
CALLBACK_STATES = (NotificationState.DELIVERED, NotificationState.FAILED_PERM)


class Recorder:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        policies: PolicyRuntime,
        metrics: Metrics,
        failpoints: Failpoints,
    ) -> None:
        self.db, self.clock, self.policies, self.metrics = db, clock, policies, metrics
        self.failpoints = failpoints
        self.commits = GroupCommit(db)
        # Set by a result (or a lookup's answer) that may have made work due now: a
        # retry, a fallback, an incident moved on. The engine then plans again; a
        # plain accepted send makes none.
        self.made_work = False

    async def record(
        self, notification_id: int, incident_id: int | None, lease: str, result: SendResult
    ) -> None:
        async def job(session: AsyncSession) -> bool:
            plain = await self._record(session, notification_id, incident_id, lease, result)
            if not plain:  # a plain accepted send changed no ORM object: its writes
                await session.flush()  # are Core statements, already sent (`_sent`)
            self.failpoints.hit("before_commit")
            return plain

        if not await self.commits.run(job):
            self.made_work = True  # committed: the plan the engine reads now sees it

    async def _record(
        self,
        session: AsyncSession,
        notification_id: int,
        incident_id: int | None,
        lease: str,
        result: SendResult,
    ) -> bool:
        """True for a plain accepted send, which makes no other work due."""
        now = self.clock.now()
        if result.outcome is Outcome.ACCEPTED:  # the usual case, in one statement
            sent = await mark_sent(
                session, notification_id, lease, now, result.provider_id, result.code, result.error
            )
            if sent is not None:
                await self._sent(session, sent, now)
                return True
        # Only a failure may fall back, which moves the incident: lock it first then.
        fails = result.outcome in (Outcome.PERMANENT, Outcome.TEMPORARY)
        incident, row = await locked(session, notification_id, incident_id, fails)
        if row is None or row.lease != lease:
            return False
        if row.state in (NotificationState.SENDING, NotificationState.UNKNOWN):
            await self._apply(session, row, incident, result, now)
        elif row.state in CALLBACK_STATES and row.sent_at is None:
            self._accepted_late(row, result)
            if result.outcome is Outcome.ACCEPTED:
                await self.note(session, row, NotificationState.SENT, now, result.provider_id)
        return False

    async def _sent(self, session: AsyncSession, row: Row[Any], now: datetime) -> None:
        """What `note` and `_after_ack` do for an accepted send, from `mark_sent`'s row."""
        await self._observe(session, row)
        self.metrics.notifications.labels(row.channel, NotificationState.SENT).inc()
        if row.incident_id is not None:
            # In Core, sent at once where `add_event` waited for the flush. The order
            # of the timeline is the same: a job starts with nothing pending (each
            # one of a group commit is flushed before the next: store/group_commit.py),
            # `insert_event` flushes what would be pending first, as the ORM's flush
            # would have written it before this event, and nothing follows it here.
            detail = {"notification_id": row.id, "person": row.person_id, "channel": row.channel}
            await insert_event(
                session,
                row.incident_id,
                now,
                notification_event(NotificationState.SENT),
                None,
                **detail,
                message=row.kind,
                error=None,
                code=None,
            )
        log.info("notification %s", NotificationState.SENT, extra=_log_keys(row))
        if row.kind == Kind.PAGE:
            self._after_ack(row, row.incident_state)

    def _accepted_late(self, row: Notification, result: SendResult) -> None:
        """Twilio's status callback (or a machine answering the call) beat us to the
        row: it was accepted. Keep the callback's state, which is newer, but record
        the send, so that its SID, its sent_at (which the throttle counts) and its
        metrics are not lost."""
        row.deadline, row.lease = None, None
        if result.outcome is not Outcome.ACCEPTED:
            row.error = row.error or result.error

    async def _apply(
        self,
        session: AsyncSession,
        row: Notification,
        incident: Incident | None,
        result: SendResult,
        now: datetime,
    ) -> None:
        give_up = give_up_at(row, incident, now)
        fate = delivery.after_send(
            result.outcome, row.attempts, row.kind, now, give_up, result.retry_after
        )
        row.state, row.lease, row.deadline = fate.state, None, fate.check_at
        row.error_code, row.error = result.code, result.error
        if fate.gave_up:
            row.error = f"{result.error} (retried until its level's ack timeout)"
        if fate.retry_at is not None:
            row.due_at = fate.retry_at
        await self.note(session, row, fate.state, now, result.provider_id)
        if fate.state == NotificationState.SENT and row.kind == Kind.PAGE:
            self._after_ack(row, None if incident is None else incident.state)
        if fate.fall_back:
            await fall_back(session, row, self.policies, now)

    def _after_ack(self, row: Notification | Row[Any], state: str | None) -> None:
        """The request started before an ack or resolve committed, and went out."""
        if state is not None and state != IncidentState.TRIGGERED:
            self.metrics.pages_after_ack.inc()
            log.warning(
                "page accepted after its incident was %s",
                state,
                extra={"notification_id": row.id, "incident_id": row.incident_id},
            )

    async def note(
        self,
        session: AsyncSession,
        row: Notification,
        state: NotificationState,
        now: datetime,
        provider_id: str | None,
        **detail: object,
    ) -> None:
        """The send's facts: SID, sent_at, metrics, timeline and log."""
        row.provider_id = provider_id or row.provider_id
        if state == NotificationState.SENT:
            row.sent_at = row.sent_at or now
            await self._observe(session, row)
        self.metrics.notifications.labels(row.channel, state).inc()
        failed = state != NotificationState.SENT
        row_event(
            session,
            row,
            now,
            notification_event(state),
            message=row.kind,
            error=row.error if failed else None,
            code=row.error_code if failed else None,
            **detail,
        )
        log.info("notification %s", state, extra=_log_keys(row))

    async def _observe(self, session: AsyncSession, row: Notification | Row[Any]) -> None:
        """pager_notification_lateness_seconds for every page; the incident's first
        one also in pager_page_latency_seconds."""
        if row.kind != Kind.PAGE or row.sent_at is None:
            return
        planned = row.scheduled_at or row.due_at
        self.metrics.notification_lateness.observe(
            max(0.0, (row.sent_at - planned).total_seconds())
        )
        if row.alert_received_at is None or row.incident_id is None:
            return
        earlier = await page_sent_before(session, row.incident_id, row.id)
        latency = delivery.first_page_latency(row.alert_received_at, earlier, row.sent_at)
        if latency is not None:
            self.metrics.page_latency.observe(latency)


async def locked(
    session: AsyncSession, notification_id: int, incident_id: int | None, lock_incident: bool
) -> tuple[Incident | None, Notification | None]:
    """The row, locked, and its incident as committed now, locked too (first, in
    the order of store/claims.py) when `lock_incident`."""
    if lock_incident:
        incident = await current_incident(session, incident_id, lock=True)
        return incident, await lock_notification(session, notification_id)
    row = await lock_notification(session, notification_id)
    return await current_incident(session, incident_id), row


def give_up_at(row: Notification, incident: Incident | None, now: datetime) -> datetime:
    """Until when this row's temporary failures are retried (core/delivery.py)."""
    return delivery.give_up_at(
        row.kind,
        row.created_at,
        row.step,
        None if incident is None else incident.step,
        None if incident is None else incident.escalate_at,
        now,
    )


def message_of(row: Notification) -> Message:
    return Message(
        notification_id=row.id,
        incident_id=row.incident_id,
        person_id=row.person_id,
        phone=row.phone,
        channel=row.channel,  # type: ignore[arg-type]
        kind=Kind(row.kind),
        body=row.body,
    )


def _log_keys(row: Notification | Row[Any]) -> dict[str, object]:
    return {
        "notification_id": row.id,
        "incident_id": row.incident_id,
        "person": row.person_id,
        "channel": row.channel,
        "step": row.step,
    }
