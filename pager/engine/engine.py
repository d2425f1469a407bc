"""The engine: one tick runs its steps (pager.engine.steps) in this order:
heartbeats, escalate, send, reconcile, unknown (the lookups of unknown sends).

`now` is read once per tick from the injected clock. The runner (`run_forever`)
asks every step when it next has work, in one read transaction (a `Plan`),
runs only the steps due, and sleeps until the earliest instant one is, at most
a tick interval, or until a wake-up (new incident, ack, resolve, a freed send
slot), so escalations are not late by a tick interval and no outside timer is
needed. Work another replica creates is in the database, so the next plan sees
it: a wake-up for the earliest due step runs it without asking again, a
wake-up with nothing due (its interval, or a wake-up from this process) reads a
new plan first, and every run is followed by one. `tick()` runs every step
(tests call it and `drain()` directly with a FakeClock and never sleep).

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
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from pager.clock import Clock
from pager.engine.escalator import Escalator
from pager.engine.heartbeats import HeartbeatWatcher
from pager.engine.policy_runtime import PolicyRuntime
from pager.engine.reconcile import Reconciler
from pager.engine.sender import Sender
from pager.engine.slots import Slots
from pager.engine.steps import Plan, Step, Steps, Task, due_in
from pager.engine.unknown import UnknownResolver
from pager.failpoints import Failpoints
from pager.metrics import Metrics
from pager.notify.base import Notifier
from pager.store import claims
from pager.store.db import UNAVAILABLE, Database

log = logging.getLogger(__name__)
# A step that handled something makes these due at once: run in the same pass.
FEEDS = {"heartbeats": ("escalate",), "escalate": ("send",)}
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
        # On SQLite the escalator's transaction claims the pages it wrote due now; on
        # PostgreSQL the claim's row and throttle locks stay in a transaction of
        # their own, taken in their one sorted order (no deadlock between replicas),
        # and not held while a batch of incidents is decided.
        ahead = self.sender.claim_within if db.is_sqlite else None
        self.escalator = Escalator(db, policies, metrics, ahead)
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
        self.send = Task("send", self.sender.run, due_in(_next_send, self.slots))
        self.steps = Steps(
            (
                # first: a heartbeat gone silent opens its incident, paged this tick
                Task("heartbeats", self.heartbeats.run, self.heartbeats.next_due),
                Task("escalate", self.escalator.run, due_in(_next_escalation)),
                self.send,
                Task("reconcile", self.reconciler.run, due_in(_next_reconcile)),
                Task("unknown", self.unknown.run, due_in(_next_lookup, self.slots)),
            ),
            metrics,
            FEEDS,
        )
        self.last_tick: datetime | None = None
        # Set by the first tick: the daemon is ready then (/readyz), and what it
        # does not need to be (APScheduler, Twilio's library) is loaded after it.
        self.ticked = asyncio.Event()
        self._gated = False  # the runner's plan was read with every send slot busy
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

    async def tick(self, only: Sequence[Step] | None = None) -> int:
        """One pass of every step (or those of `only`); returns how many rows it
        handled. Sends it started may still be in flight (`drain()` waits for them)."""
        async with self._tick_lock:
            now = self.clock.now()
            handled = await self.steps.run_all(now, only)
            self._ticked(now)
            if handled:
                self._tell()
            return handled

    def _ticked(self, now: datetime) -> None:
        """The engine is alive (readiness and its metric), whether or not work was due."""
        self.last_tick = now
        self.ticked.set()
        self.metrics.engine_last_tick.set(now.timestamp())

    def _slot_freed(self) -> None:
        """A send or lookup ended. Its result may have made work due now (a retry, a
        fallback, an incident moved on): the runner plans again. Rows may be
        waiting for a slot (the last claim filled every free one): claim them now,
        without a plan. The runner planned with every slot busy: it plans again.
        Otherwise its plan has everything due, and only listeners hear of it."""
        if self._stopping:
            return
        self._tell()
        if self.sender.recorder.made_work:
            self.sender.recorder.made_work = False
            self._wake.set()
        elif self.sender.more_due:
            self._freed = True
            if self._refill is None or self._refill.done():
                self._refill = asyncio.create_task(self._claim_next(), name="pager-refill")
        elif self._gated:
            self._wake.set()  # the runner planned without the work waiting for a slot

    async def _claim_next(self) -> None:
        while self._freed and not self._stopping:
            self._freed = False
            await self.steps.run(self.send, self.clock.now())
        if self.slots.free > 0 and self._gated:
            # Room left, and the runner planned while every slot was busy (so without
            # the sends and lookups waiting for one): it plans again.
            self._wake.set()

    async def drain(self) -> None:
        """Wait for every send and lookup in flight, and those they led to (tests)."""
        while self.slots.free < self.slots.size or (self._refill and not self._refill.done()):
            await self.slots.idle()
            if self._refill is not None:
                await self._refill

    async def next_due(self) -> datetime | None:
        """The earliest instant a step has work (None: none planned)."""
        return (await self.plan()).earliest

    async def plan(self) -> Plan:
        """When each step next has work, read in one transaction."""
        self._gated = self.slots.free <= 0
        async with self.db.read() as session:
            return await self.steps.plan(session)

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
        plan: Plan | None = None  # None: read one before running anything
        while not self._stopping:
            try:
                plan = await self._work(plan)
                delay = plan.delay(self.clock.now(), self.interval)
            except UNAVAILABLE as exc:
                log.error("engine tick failed, database unavailable: %s", exc)
                plan, delay = None, self.interval
            except Exception:
                log.exception("engine tick failed")
                plan, delay = None, self.interval
            if self._stopping:
                break
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
                plan = None  # woken: something changed here; what is due now?
            except TimeoutError:
                pass  # the plan's earliest instant (or the interval) has come
            self._wake.clear()

    async def _work(self, plan: Plan | None) -> Plan:
        """Run the steps due until none is (at most 50 rounds: more may be due when a
        batch was full); returns the last plan, read after the last run."""
        if plan is None or not plan.ready(self.clock.now()):
            plan = await self.plan()
        for _ in range(50):
            now = self.clock.now()
            ready = plan.ready(now)
            if not ready or self._stopping:
                self._ticked(now)
                return plan
            handled = await self.tick(ready)
            plan = await self.plan()
            if not handled:
                return plan
        return plan


async def _next_escalation(session: AsyncSession) -> datetime | None:
    return (await claims.next_instants(session)).escalation


async def _next_send(session: AsyncSession) -> datetime | None:
    return (await claims.next_instants(session)).send


async def _next_reconcile(session: AsyncSession) -> datetime | None:
    return (await claims.next_instants(session)).reconcile


async def _next_lookup(session: AsyncSession) -> datetime | None:
    return (await claims.next_instants(session)).lookup
