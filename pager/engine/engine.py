"""The engine: one tick runs its steps (pager.engine.steps) in this order:
heartbeats, escalate, send, reconcile, unknown (the lookups of unknown sends).

`now` is read once per tick from the injected clock. The runner sleeps until
the earliest instant a step is due (each step says when), at most a tick
interval, or until a wake-up (new incident, ack, resolve, a freed send slot),
so escalations are not late by a tick interval and no outside timer is needed.
Tests call `tick()` and `drain()` directly with a FakeClock and never sleep.

Each step is isolated and timed (pager.engine.steps): one that fails is logged
and counted (pager_engine_step_errors_total{step}) and the steps after it
still run, so a broken heartbeat cannot stop escalation, nor escalation stop
sending. Sends and lookups run in send slots (engine/slots.py) and are not
waited for.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from pager.clock import Clock
from pager.core.vocabulary import NotificationState
from pager.engine.escalator import Escalator
from pager.engine.heartbeats import HeartbeatWatcher
from pager.engine.policy_runtime import PolicyRuntime
from pager.engine.reconcile import Reconciler
from pager.engine.sender import Sender
from pager.engine.slots import Slots
from pager.engine.steps import Steps, Task, due_in
from pager.engine.unknown import UnknownResolver
from pager.failpoints import Failpoints
from pager.metrics import Metrics
from pager.notify.base import Notifier
from pager.store import claims
from pager.store.db import UNAVAILABLE, Database

log = logging.getLogger(__name__)
RECONCILED = (
    NotificationState.SENDING,
    NotificationState.CANCELLED,
)  # claims expired, cancellations to count
LOOKED_UP = (NotificationState.UNKNOWN,)  # sends of unknown fate, asked of the provider
SEND_SLOTS = 4  # provider requests at once (Twilio answers 20429 beyond its limit)


class Engine:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        policies: PolicyRuntime,
        notifier: Notifier,
        metrics: Metrics,
        *,
        interval: float = 5.0,
        send_timeout: float = 10.0,
        failpoints: Failpoints | None = None,
    ) -> None:
        self.db, self.clock, self.metrics, self.interval = db, clock, metrics, interval
        self.slots = Slots(SEND_SLOTS, on_free=self._slot_freed)
        self._refill: asyncio.Task[None] | None = None
        self._freed = False
        self.escalator = Escalator(db, policies, metrics)
        self.sender = Sender(
            db,
            clock,
            notifier,
            policies,
            metrics,
            self.slots,
            send_timeout=send_timeout,
            failpoints=failpoints,
        )
        self.reconciler = Reconciler(db, metrics)
        self.unknown = UnknownResolver(
            db,
            clock,
            notifier,
            policies,
            metrics,
            self.slots,
            self.sender.recorder,
            send_timeout=send_timeout,
        )
        self.heartbeats = HeartbeatWatcher(db, clock, policies, metrics)
        self.send = Task("send", self.sender.run, due_in(db, claims.next_send, self.slots))
        self.steps = Steps(
            (
                # first: a heartbeat gone silent opens its incident, paged this tick
                Task("heartbeats", self.heartbeats.run, self.heartbeats.next_due),
                Task("escalate", self.escalator.run, due_in(db, claims.next_escalation)),
                self.send,
                Task("reconcile", self.reconciler.run, due_in(db, _deadline(RECONCILED))),
                Task("unknown", self.unknown.run, due_in(db, _deadline(LOOKED_UP), self.slots)),
            ),
            metrics,
        )
        self.last_tick: datetime | None = None
        # Set by the first tick: the daemon is ready then (/readyz), and what it
        # does not need to be (APScheduler, Twilio's library) is loaded after it.
        self.ticked = asyncio.Event()
        self._wake = asyncio.Event()
        self._tick_lock = asyncio.Lock()
        self._stopping = False
        self._listeners: list[Callable[[], None]] = []

    def add_listener(self, listener: Callable[[], None]) -> None:
        """Called on every wake-up (something changed) and after every tick that
        handled something: how the console's live updates hear of this process's
        changes at once."""
        self._listeners.append(listener)

    def _tell(self) -> None:
        for listener in self._listeners:
            listener()

    async def tick(self) -> int:
        """One pass; returns how many rows it handled. Sends it started may still
        be in flight (`drain()` waits for them)."""
        async with self._tick_lock:
            now = self.clock.now()
            handled = await self.steps.run_all(now)
            self.last_tick = now
            self.ticked.set()
            self.metrics.engine_last_tick.set(now.timestamp())
            if handled:
                self._tell()
            return handled

    def _slot_freed(self) -> None:
        """A send ended: claim the next due rows now, without a whole tick."""
        if self._stopping:
            return
        self._freed = True
        if self._refill is None or self._refill.done():
            self._refill = asyncio.create_task(self._claim_next(), name="pager-refill")

    async def _claim_next(self) -> None:
        while self._freed and not self._stopping:
            self._freed = False
            await self.steps.run(self.send, self.clock.now())
        if self.slots.free > 0:
            self.wake()  # room left: the runner works out what is due next, and when

    async def drain(self) -> None:
        """Wait for every send and lookup in flight, and those they led to (tests)."""
        while self.slots.free < self.slots.size or (self._refill and not self._refill.done()):
            await self.slots.idle()
            if self._refill is not None:
                await self._refill

    async def next_due(self) -> datetime | None:
        """The earliest instant a step has work (None: none planned)."""
        return await self.steps.next_due()

    def wake(self) -> None:
        self._wake.set()
        self._tell()

    async def stop(self, task: asyncio.Task[None], grace: float = 15.0) -> None:
        """Stop claiming work; let sends in flight finish, then end."""
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout=grace)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._refill is not None:
            with contextlib.suppress(Exception):
                await self._refill
        await self.slots.stop(grace)

    async def run_forever(self) -> None:
        while not self._stopping:
            try:
                for _ in range(50):  # more may be due when a batch was full
                    if self._stopping or not await self.tick():
                        break
                delay = await self._delay()
            except UNAVAILABLE as exc:
                log.error("engine tick failed, database unavailable: %s", exc)
                delay = self.interval
            except Exception:
                log.exception("engine tick failed")
                delay = self.interval
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
            self._wake.clear()

    async def _delay(self) -> float:
        due = await self.next_due()
        if due is None:
            return self.interval
        return min(self.interval, max(0.0, (due - self.clock.now()).total_seconds()))


def _deadline(states: tuple[str, ...]) -> Callable[[AsyncSession], Awaitable[datetime | None]]:
    async def query(session: AsyncSession) -> datetime | None:
        return await claims.next_deadline(session, states)

    return query
