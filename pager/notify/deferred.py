"""A notifier made in the background, so `pager serve` is ready before it is.

Twilio's client library is about 50 ms of imports (several times that on a
busy machine) and nothing needs it before the first send, so the daemon does
not wait for it to take alerts. `Deferred(make)`, once `start(after)` is
called, runs `make()` as a task as soon as `after` is set (the engine's first
tick: the daemon is ready); `send` and `find_sent` wait for it. Should it
fail, the failure is logged (one line) and /readyz says so (`failure`), each
send reports TEMPORARY (nothing left the process: the outbox keeps the page
and retries) and each lookup raises LookupFailed; and `make()` is tried again
(pager.retrying: a failure may pass, and a daemon that never pages again until
someone restarts it is the worst outcome).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from pager.core.outcome import Outcome
from pager.notify.base import LookupFailed, Message, Notifier, SendResult
from pager.retrying import made_in_the_end


class Deferred:
    def __init__(self, make: Callable[[], Awaitable[Notifier]], retry_after: float = 1.0) -> None:
        self._make, self._retry_after = make, retry_after
        self._task: asyncio.Task[Notifier] | None = None
        self._error: Exception | None = None  # the last try's, until one succeeds
        self._tried = asyncio.Event()  # set once make() has been tried, or by close()

    def start(self, after: asyncio.Event) -> None:
        self._task = asyncio.create_task(self._start(after), name="pager-notifier-start")

    async def _start(self, after: asyncio.Event) -> Notifier:
        await after.wait()
        return await made_in_the_end(
            self._try, "the notifier", "nobody can be paged until it does", self._retry_after
        )

    async def _try(self) -> Notifier:
        try:
            notifier = await self._make()
        except Exception as exc:
            self._error = exc
            raise
        finally:
            self._tried.set()
        self._error = None
        return notifier

    @property
    def failure(self) -> str | None:
        """Why the notifier could not start; None while it starts and once it has."""
        return None if self._error is None else f"notifier did not start: {self._error}"

    async def _notifier(self) -> Notifier:
        task = self._task
        if task is None:
            raise RuntimeError("used before start()")
        await self._tried.wait()  # a send waits for the first try only, not for retries
        if task.cancelled():
            raise RuntimeError("closed")  # by close()
        if self._error is not None:
            raise self._error
        return await asyncio.shield(task)

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
        self._tried.set()  # closed before its first try: no send waits for one
        if not task.cancelled() and task.exception() is None:
            await task.result().close()
