"""The engine: one tick runs escalation, sending and reconciliation, in that order.

`now` is read once per tick from the injected clock. The runner sleeps only
until the next due action (or a wake-up: new incident, ack, resolve), with
APScheduler's periodic job as a safety net, so escalations are not late by a
tick interval. Tests call `tick()` directly with a FakeClock and never sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

from pager.clock import Clock
from pager.engine.escalator import Escalator
from pager.engine.heartbeats import HeartbeatWatcher
from pager.engine.sender import Reconciler, Sender
from pager.metrics import Metrics
from pager.notify.base import Notifier
from pager.policy.runtime import PolicyRuntime
from pager.store.db import UNAVAILABLE, Database
from pager.store.incidents import open_counts
from pager.store.outbox import next_due

log = logging.getLogger(__name__)


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
    ) -> None:
        self.db, self.clock, self.metrics, self.interval = db, clock, metrics, interval
        self.escalator = Escalator(db, policies, metrics)
        self.sender = Sender(db, notifier, policies, metrics, send_timeout)
        self.reconciler = Reconciler(db, metrics)
        self.heartbeats = HeartbeatWatcher(db, clock, policies, metrics)
        self.last_tick: datetime | None = None
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
        """One pass; returns how many rows it handled."""
        async with self._tick_lock:
            now = self.clock.now()
            handled = await self.heartbeats.run(now)  # first: a silence pages this tick
            handled += await self.escalator.run(now)
            handled += await self.sender.run(now)
            handled += await self.reconciler.run(now)
            async with self.db.read() as session:
                self.metrics.set_open(await open_counts(session))
            self.last_tick = now
            self.metrics.engine_last_tick.set(now.timestamp())
            if handled:
                self._tell()
            return handled

    async def next_due(self) -> datetime | None:
        async with self.db.read() as session:
            due = await next_due(session)
        beat = await self.heartbeats.next_due()
        return min((d for d in (due, beat) if d is not None), default=None)

    def wake(self) -> None:
        self._wake.set()
        self._tell()

    async def stop(self, task: asyncio.Task[None], grace: float = 15.0) -> None:
        """Stop claiming work; let a tick in flight finish its sends, then end."""
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout=grace)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

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
