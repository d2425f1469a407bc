"""The sender: claims what its free send slots can start now, starts each at once,
and records each result as it comes.

Two commits per attempt, with the request outside any transaction:
1. claim and start: the row is `sending` under this sender's lease (a token
   and a deadline a send timeout away) with `started_at` written; the
   throttle is applied here, where it sees every claim, and the incident is
   checked under the row's lock, which an ack must wait for (or the ack came
   first and the page is cancelled). Its request starts right after the
   commit, in a send slot of its own. On SQLite a page the escalator writes due
   now is claimed in the escalator's transaction instead (`claim_within`):
   the same claim, committed with the decision that made the page.
2. result: written by the task that made the request, as soon as it ends.
So after a crash a row with `started_at` may have reached the provider and
is `unknown`, which is settled by asking the provider (engine/unknown.py); a
`sending` row without it (a claim of an older version, which committed its
start apart) never left the process and goes back to pending. A page is never
lost, and sent twice only when the provider could not be asked.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from pager.clock import Clock
from pager.core.outcome import Outcome
from pager.core.vocabulary import IncidentState, NotificationState
from pager.engine.outcomes import Recorder, message_of
from pager.engine.policy_runtime import PolicyRuntime
from pager.engine.slots import Slots
from pager.engine.throttle import Throttler
from pager.failpoints import Failpoints
from pager.metrics import Metrics
from pager.notify.base import Kind, Message, Notifier, SendResult
from pager.store.claims import claim_notifications
from pager.store.db import Database
from pager.store.incidents import load_incidents
from pager.store.models import Incident, Notification

log = logging.getLogger(__name__)
# Beyond the send timeout: time to commit a start or a result before the row
# counts as stuck. A claimed row's request starts within milliseconds; one not
# started within a send timeout and this grace was lost (a crash, a stall) and
# goes back to pending.
RESULT_GRACE = timedelta(seconds=5)
# Claims in one transaction, on SQLite, while the throttle leaves slots free.
CLAIM_ROUNDS = 8


@dataclass(frozen=True)
class Claimed:
    notification_id: int
    lease: str
    incident_id: int | None
    message: Message  # as claimed and started


@dataclass
class Ahead:
    """Rows claimed in another step's transaction (`Sender.claim_within`), holding
    the sender's claim until that transaction has ended."""

    sender: Sender
    now: datetime
    more_due_before: bool
    claimed: list[Claimed] = field(default_factory=list)

    def start(self) -> None:
        """Committed: start the sends, and let the fed send step know."""
        sender = self.sender
        sender._ahead_at = self.now
        sender._claiming.release()
        sender._start(self.claimed)

    def abandon(self) -> None:
        """Rolled back: nothing was claimed."""
        self.sender.more_due = self.more_due_before
        self.sender._claiming.release()


class Sender:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        notifier: Notifier,
        policies: PolicyRuntime,
        metrics: Metrics,
        slots: Slots,
        *,
        send_timeout: float,
        failpoints: Failpoints | None = None,
    ) -> None:
        self.db, self.clock, self.notifier, self.metrics = db, clock, notifier, metrics
        self.slots, self.send_timeout = slots, send_timeout
        self.failpoints = failpoints or Failpoints()
        self.lease_time = timedelta(seconds=send_timeout) + RESULT_GRACE
        self.throttler = Throttler(policies, postgres=not db.is_sqlite)
        self.recorder = Recorder(db, clock, policies, metrics, self.failpoints)
        self._claiming = asyncio.Lock()  # the tick and a freed slot may both claim
        # The last claim took as many rows as it could: more may be due, so a freed
        # slot claims again at once. Otherwise the engine's plan has the next one.
        self.more_due = False
        # The instant whose due rows a claim in the escalator's transaction took: the
        # send step fed by that escalation, at the same instant, need not claim again.
        self._ahead_at: datetime | None = None

    async def run(self, now: datetime) -> int:
        """Claim as many due rows as there are free slots and start them; returns
        how many rows it handled (sent, held or cancelled), without waiting."""
        if self._ahead_at == now:  # the escalator's transaction claimed what was due
            self._ahead_at = None
            if not self.more_due:
                return 0  # a transaction of its own would find nothing more
        async with self._claiming:
            if self.slots.free <= 0:
                return 0
            claimed, handled = await self._claim(now, self.slots.free)
            self._start(claimed)
            return handled

    async def claim_within(
        self, session: AsyncSession, now: datetime, known: Mapping[int, Incident]
    ) -> Ahead | None:
        """On SQLite, the claim of `run` made in the caller's write transaction (the
        escalator's, which has just written pages due now): a turn at the write
        lock, a BEGIN and a COMMIT fewer for every page. The caller starts the
        sends once it committed (`Ahead.start`), or gives them up (`abandon`),
        when its transaction was rolled back. None when no slot is free or a
        claim is under way (its own transaction may be waiting for the lock the
        caller holds: this one does not wait for it, and `run` claims later).
        `known`: incidents the caller's transaction holds, current: not read again."""
        if self._claiming.locked() or self.slots.free <= 0:
            return None
        await self._claiming.acquire()  # free: taken without a turn of the loop
        ahead = Ahead(self, now, self.more_due)
        try:
            ahead.claimed, _ = await self._claim_in(session, now, self.slots.free, known)
        except BaseException:
            ahead.abandon()
            raise
        return ahead

    def _start(self, claimed: Sequence[Claimed]) -> None:
        """Committed: each claimed row's request starts in a send slot of its own."""
        if claimed:
            self.failpoints.hit("after_claim")
        for c in claimed:
            self.slots.start(self._attempt(c), name=f"send-{c.notification_id}")

    async def _claim(self, now: datetime, limit: int) -> tuple[list[Claimed], int]:
        """`_claim_in` a write transaction of its own, committed."""
        async with self.db.write() as session:
            return await self._claim_in(session, now, limit, {})

    async def _claim_in(
        self,
        session: AsyncSession,
        now: datetime,
        limit: int,
        known: Mapping[int, Incident],
    ) -> tuple[list[Claimed], int]:
        """Claim and start up to `limit` due rows in `session`'s transaction; returns
        those to send and how many rows were handled (sent, held or cancelled).
        `known`: incidents the transaction holds already, current (not read again).

        On SQLite, rows the throttle held or that were cancelled leave their slots
        free: the same transaction claims again for those (at most CLAIM_ROUNDS
        times), instead of a transaction of its own for each freed slot: in a
        storm most pages are bundled, and every such transaction was a turn at
        the one write lock the webhooks wait for. On PostgreSQL a second round
        would take throttle locks out of their sorted order (two replicas could
        deadlock): there a freed slot claims again, in a transaction of its own."""
        lease = secrets.token_hex(8)
        claimed: list[Claimed] = []
        handled = 0
        rounds = CLAIM_ROUNDS if self.db.is_sqlite else 1
        for _ in range(rounds):
            room = limit - len(claimed)
            rows = await self._claim_round(session, now, room, lease, claimed, known)
            handled += len(rows)
            self.more_due = len(rows) >= room
            if not self.more_due or len(claimed) >= limit:
                break
        return claimed, handled

    async def _claim_round(
        self,
        session: AsyncSession,
        now: datetime,
        limit: int,
        lease: str,
        claimed: list[Claimed],
        known: Mapping[int, Incident],
    ) -> Sequence[Notification]:
        """One claim of up to `limit` due rows; those to send are added to `claimed`."""
        rows = await claim_notifications(session, now, limit, not self.db.is_sqlite)
        await self.throttler.lock(session, rows)
        # One read of their incidents, held here: the session keeps only weak
        # references, so a bare load was collected and each row read its own again.
        # Those the transaction already holds (the escalator's batch) are current.
        ids = {r.incident_id for r in rows if r.incident_id}
        incidents = {i: known[i] for i in ids if i in known}
        if missing := [i for i in ids if i not in incidents]:
            incidents.update({i.id: i for i in await load_incidents(session, missing)})
        for row in rows:
            incident = None if row.incident_id is None else incidents.get(row.incident_id)
            if await self._ready(session, row, incident, now):
                row.state, row.attempts = NotificationState.SENDING, row.attempts + 1
                row.lease, row.deadline, row.started_at = lease, now + self.lease_time, now
                claimed.append(Claimed(row.id, lease, row.incident_id, message_of(row)))
            if row.state in (NotificationState.SENDING, NotificationState.CANCELLED):
                self.throttler.changed(session, row)
        return rows

    async def _ready(
        self, session: AsyncSession, row: Notification, incident: Incident | None, now: datetime
    ) -> bool:
        """Whether the row goes now: still wanted, not empty, not held by the throttle."""
        if not await self._wanted(session, row, incident):
            return False
        if await self.throttler.hold(session, row, now):
            if row.state == NotificationState.THROTTLED:
                self.metrics.notifications.labels(row.channel, NotificationState.THROTTLED).inc()
            return False
        return True

    async def _wanted(
        self, session: AsyncSession, row: Notification, incident: Incident | None
    ) -> bool:
        """A page of an incident no longer triggered, or a bundle or digest with
        nothing left in it, is cancelled. Bundles and digests get their text here.

        `incident` was read after the row was locked (by the claim, on PostgreSQL
        FOR NO KEY UPDATE): an ack cancels the rows first and writes the incident
        after (store/incidents.py, LOCK ORDER), so either its cancel got the row
        first (the claim skipped it, or saw it cancelled), or it waits for this
        commit and leaves the started row alone (a page already on its way,
        counted if it is accepted after the ack)."""
        if row.kind == Kind.PAGE and row.incident_id is not None:
            wanted = incident is not None and incident.state == IncidentState.TRIGGERED
        elif row.kind == Kind.BUNDLE:
            wanted = await self.throttler.fill_bundle(session, row)
        elif row.kind == Kind.INFO and row.bundle_of is not None:
            wanted = await self.throttler.fill_digest(session, row)
        else:
            wanted = True
        if not wanted:
            row.state, row.lease, row.deadline = NotificationState.CANCELLED, None, None
            self.metrics.notifications.labels(row.channel, NotificationState.CANCELLED).inc()
        return wanted

    async def _attempt(self, claimed: Claimed) -> None:
        self.failpoints.hit("before_send")
        result = await self._send(claimed.message)
        if result.outcome is Outcome.ACCEPTED:
            self.failpoints.hit("after_accept")
        await self.recorder.record(
            claimed.notification_id, claimed.incident_id, claimed.lease, result
        )

    async def _send(self, message: Message) -> SendResult:
        # The notifier bounds each request itself; this only guards against a bug.
        try:
            async with asyncio.timeout(self.send_timeout + 1):
                return await self.notifier.send(message)
        except TimeoutError:
            return SendResult(Outcome.UNKNOWN, error=f"no answer within {self.send_timeout}s")
        except Exception as exc:  # a notifier bug must not stop the engine
            log.exception("notifier failed", extra={"notification_id": message.notification_id})
            return SendResult(Outcome.UNKNOWN, error=f"notifier error: {exc}")
