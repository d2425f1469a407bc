"""A notifier made in the background, so `pager serve` is ready before it is.

Twilio's client library is about 50 ms of imports (several times that on a
busy machine) and nothing needs it before the first send, so the daemon does
not wait for it to take alerts. `Deferred(make)`, once `start(after)` is
called, runs `make()` as a task as soon as `after` is set (the engine's first
tick: the daemon is ready); `send` and `find_sent` wait for it. Should it
fail, the failure is logged when it happens and /readyz says so (`failure`),
each send reports TEMPORARY (nothing left the process: the outbox keeps the
page and retries) and each lookup raises LookupFailed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from pager.core.outcome import Outcome
from pager.notify.base import LookupFailed, Message, Notifier, SendResult

log = logging.getLogger(__name__)


class Deferred:
    def __init__(self, make: Callable[[], Awaitable[Notifier]]) -> None:
        self._make = make
        self._task: asyncio.Task[Notifier] | None = None

    def start(self, after: asyncio.Event) -> None:
        self._task = asyncio.create_task(self._start(after), name="pager-notifier-start")

    async def _start(self, after: asyncio.Event) -> Notifier:
        await after.wait()
        try:
            return await self._make()
        except Exception:
            log.exception("the notifier could not start: nobody can be paged")
            raise

    @property
    def failure(self) -> str | None:
        """Why the notifier could not start; None while it starts and once it has."""
        task = self._task
        if task is None or not task.done() or task.cancelled() or task.exception() is None:
            return None
        return f"notifier did not start: {task.exception()}"

    async def _notifier(self) -> Notifier:
        task = self._task
        if task is None:
            raise RuntimeError("used before start()")
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if task.cancelled() and not (current and current.cancelling()):
                raise RuntimeError("closed") from None  # by close(), not the caller's cancel
            raise

    async def send(self, message: Message) -> SendResult:
        try:
            notifier = await self._notifier()
        except Exception as exc:
            return SendResult(Outcome.TEMPORARY, error=f"notifier did not start: {exc}")
        return await notifier.send(message)

    async def find_sent(self, message: Message, since: datetime) -> Sequence[str]:
        try:
            notifier = await self._notifier()
        except Exception as exc:
            raise LookupFailed(f"notifier did not start: {exc}") from exc
        return await notifier.find_sent(message, since)

    async def close(self) -> None:
        task = self._task
        if task is None:
            return
        task.cancel()  # a no-op once it is done
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        if not task.cancelled() and task.exception() is None:
            await task.result().close()
