"""Send slots: at most `size` provider requests of this process at once, each in
its own task.

The sender and the unknown-send resolver claim only as many rows as there are
free slots, and start each at once, so a claimed row is one whose request is
about to start, never one queued behind a slow batch. Each task records its
own result when it ends; a slow request holds up nobody else. A freed slot
wakes the engine, which claims the next row.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)


class Slots:
    def __init__(self, size: int, on_free: Callable[[], None] = lambda: None) -> None:
        if size < 1:
            raise ValueError("at least one send slot")
        self.size, self.on_free = size, on_free
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def free(self) -> int:
        return self.size - len(self._tasks)

    def start(self, job: Coroutine[Any, Any, None], name: str) -> None:
        """Run `job` in a slot now (the caller checked `free`)."""
        if self.free <= 0:
            job.close()
            raise RuntimeError("no free send slot")
        task = asyncio.create_task(job, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # The jobs handle their own failures; this is a bug, and its row's
            # deadline will bring it back (see engine/reconcile.py).
            log.error("send job %s failed", task.get_name(), exc_info=task.exception())
        self.on_free()

    async def idle(self) -> None:
        """Wait until every job started so far (and any they started) has ended."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def stop(self, grace: float) -> None:
        """Let jobs in flight finish within `grace` seconds, then cancel the rest."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.idle(), timeout=grace)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(set(self._tasks))
