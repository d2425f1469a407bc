"""The engine's steps: one shape, run in a fixed order, each isolated and timed.

A step (as GoAlert's engine modules) has a name, `run(now)` that does the work
due at `now` and says how many rows it handled, and `next_due()`, the earliest
instant it will have work (None: nothing planned; a wake-up tells the engine
of new work). `Steps` runs them in their order each tick and guarantees:

- isolation: a step that raises is logged with its name (log key `step`) and
  counted (`pager_engine_step_errors_total{step}`), and the steps after it
  still run; a failing `next_due()` is treated alike and counts as "nothing
  planned" (the engine then wakes after its interval anyway);
- timing: each run is observed in `pager_engine_step_duration_seconds{step}`
  (wall time of the step itself: sends it starts run on in send slots);
- every step's series exist at zero from the start.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from pager.engine.slots import Slots
from pager.metrics import Metrics
from pager.store.db import Database, unavailable

log = logging.getLogger(__name__)

Due = Callable[[], Awaitable[datetime | None]]


class Step(Protocol):
    @property
    def name(self) -> str: ...

    async def run(self, now: datetime) -> int: ...

    async def next_due(self) -> datetime | None: ...


@dataclass(frozen=True, slots=True)
class Task:
    """A step made of a component's `run` and a question of when it next has work."""

    name: str
    work: Callable[[datetime], Awaitable[int]]
    due: Due

    async def run(self, now: datetime) -> int:
        return await self.work(now)

    async def next_due(self) -> datetime | None:
        return await self.due()


def due_in(
    db: Database,
    query: Callable[[AsyncSession], Awaitable[datetime | None]],
    slots: Slots | None = None,
) -> Due:
    """`query` asked in a read transaction. With `slots`: only while a send slot is
    free, since a step that needs one cannot work before; a freed slot wakes the
    engine, and a runner that counted the work with every slot busy would spin."""

    async def due() -> datetime | None:
        if slots is not None and slots.free <= 0:
            return None
        async with db.read() as session:
            return await query(session)

    return due


class Steps:
    def __init__(self, steps: Sequence[Step], metrics: Metrics) -> None:
        names = [step.name for step in steps]
        if len(set(names)) != len(names):
            raise ValueError(f"engine step names must be unique: {names}")
        self.steps, self.metrics = tuple(steps), metrics
        metrics.declare_steps(names)

    async def run_all(self, now: datetime) -> int:
        """Every step in order; returns the rows they handled together."""
        handled = 0
        for step in self.steps:
            handled += await self.run(step, now)
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

    async def next_due(self) -> datetime | None:
        """The earliest instant any step has work."""
        dues = [await self._due(step) for step in self.steps]
        return min((d for d in dues if d is not None), default=None)

    async def _due(self, step: Step) -> datetime | None:
        try:
            return await step.next_due()
        except Exception as exc:
            self._failed(step.name, "could not say when it is next due", exc)
            return None

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
