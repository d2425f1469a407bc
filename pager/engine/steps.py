"""The engine's steps: one shape, run in a fixed order, each isolated and timed.

A step (as GoAlert's engine modules) has a name, `run(now)` that does the work
due at `now` and says how many rows it handled, and `next_due(session)`, the
earliest instant it will have work (None: nothing planned; a wake-up tells the
engine of new work), read in the session it is given. `Steps` runs them in
their order (all of them, or those a `Plan` says are due) and guarantees:

- isolation: a step that raises is logged with its name (log key `step`) and
  counted (`pager_engine_step_errors_total{step}`), and the steps after it
  still run; a failing `next_due()` is treated alike (its transaction is
  rolled back, so the next step's question is asked afresh): it plans nothing
  (the engine wakes after its interval anyway) and its step is run at every
  wake-up, as if due;
- timing: each run is observed in `pager_engine_step_duration_seconds{step}`
  (wall time of the step itself: sends it starts run on in send slots);
- every step's series exist at zero from the start.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from pager.engine.slots import Slots
from pager.metrics import Metrics
from pager.store.db import UNAVAILABLE, unavailable

log = logging.getLogger(__name__)

Due = Callable[[AsyncSession], Awaitable[datetime | None]]


class Step(Protocol):
    @property
    def name(self) -> str: ...

    async def run(self, now: datetime) -> int: ...

    async def next_due(self, session: AsyncSession) -> datetime | None: ...


@dataclass(frozen=True, slots=True)
class Task:
    """A step made of a component's `run` and a question of when it next has work."""

    name: str
    work: Callable[[datetime], Awaitable[int]]
    due: Due

    async def run(self, now: datetime) -> int:
        return await self.work(now)

    async def next_due(self, session: AsyncSession) -> datetime | None:
        return await self.due(session)


def due_in(
    query: Callable[[AsyncSession], Awaitable[datetime | None]], slots: Slots | None = None
) -> Due:
    """`query`; with `slots`, only while a send slot is free, since a step that needs
    one cannot work before; a freed slot wakes the engine, and a runner that
    counted the work with every slot busy would spin."""

    async def due(session: AsyncSession) -> datetime | None:
        if slots is not None and slots.free <= 0:
            return None
        return await query(session)

    return due


@dataclass(frozen=True)
class Plan:
    """When each step next has work, as read in one transaction: which are due now,
    and how long the runner may sleep before one is."""

    due: tuple[tuple[Step, datetime | None], ...]
    failed: frozenset[str]  # steps that could not say: run at every wake-up

    def ready(self, now: datetime) -> tuple[Step, ...]:
        return tuple(
            step
            for step, at in self.due
            if step.name in self.failed or (at is not None and at <= now)
        )

    @property
    def earliest(self) -> datetime | None:
        return min((at for _, at in self.due if at is not None), default=None)

    def delay(self, now: datetime, interval: float) -> float:
        """Seconds until the earliest planned work, at most `interval`."""
        due = self.earliest
        if due is None:
            return interval
        return min(interval, max(0.0, (due - now).total_seconds()))


class Steps:
    def __init__(
        self,
        steps: Sequence[Step],
        metrics: Metrics,
        feeds: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        """`feeds`: the steps whose work a step makes due at once (the escalator's
        pages are the sender's), run after it in the same pass when it handled
        something, without waiting for a plan to say so."""
        names = [step.name for step in steps]
        if len(set(names)) != len(names):
            raise ValueError(f"engine step names must be unique: {names}")
        self.steps, self.metrics = tuple(steps), metrics
        self.feeds = dict(feeds or {})
        metrics.declare_steps(names)

    async def run_all(self, now: datetime, only: Sequence[Step] | None = None) -> int:
        """Every step in order, or those of `only` and those a step of them that
        handled something feeds; returns the rows they handled together."""
        wanted = None if only is None else {step.name for step in only}
        handled = 0
        for step in self.steps:
            if wanted is not None and step.name not in wanted:
                continue
            done = await self.run(step, now)
            if done and wanted is not None:
                wanted.update(self.feeds.get(step.name, ()))
            handled += done
        return handled

    async def run(self, step: Step, now: datetime) -> int:
        started = time.perf_counter()
        try:
            return await step.run(now)
        except Exception as exc:
            self._failed(step.name, "failed", exc)
            return 0
        finally:
            elapsed = time.perf_counter() - started
            self.metrics.engine_step_duration.labels(step.name).observe(elapsed)

    async def plan(self, session: AsyncSession) -> Plan:
        """Every step's next due instant, asked in `session` (one read transaction)."""
        due: list[tuple[Step, datetime | None]] = []
        failed: set[str] = set()
        for step in self.steps:
            try:
                due.append((step, await step.next_due(session)))
            except Exception as exc:
                self._failed(step.name, "could not say when it is next due", exc)
                due.append((step, None))
                failed.add(step.name)
                with contextlib.suppress(*UNAVAILABLE):  # then the next question fails too
                    await session.rollback()  # on PostgreSQL the transaction is aborted
        return Plan(tuple(due), frozenset(failed))

    def _failed(self, name: str, what: str, exc: Exception) -> None:
        self.metrics.engine_step_errors.labels(name).inc()
        if unavailable(exc):  # an outage, not a bug: one line, no traceback
            log.error(
                "engine step %s %s, database unavailable: %s",
                name,
                what,
                exc,
                extra={"step": name},
            )
        else:
            log.error("engine step %s %s", name, what, exc_info=exc, extra={"step": name})
