"""A notifier made in the background, so `pager serve` is ready before it is.

Twilio's client library is about 50 ms of imports (several times that on a
busy machine) and nothing needs it before the first send, so the daemon does
not wait for it to take alerts. `Deferred(make)` runs `make()` at once, as a
task; `send` and `find_sent` wait for it. Should it fail, the failure is
logged when it happens and /readyz says so (`failure`), each send reports
TEMPORARY (nothing left the process: the outbox keeps the page and retries)
and each lookup raises LookupFailed.
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
        self._task = asyncio.create_task(self._start(make), name="pager-notifier-start")

    @staticmethod
    async def _start(make: Callable[[], Awaitable[Notifier]]) -> Notifier:
        try:
            return await make()
        except Exception:
            log.exception("the notifier could not start: nobody can be paged")
            raise

    @property
    def failure(self) -> str | None:
        """Why the notifier could not start; None while it starts and once it has."""
        if not self._task.done() or self._task.cancelled() or self._task.exception() is None:
            return None
        return f"notifier did not start: {self._task.exception()}"

    async def send(self, message: Message) -> SendResult:
        try:
            notifier = await asyncio.shield(self._task)
        except Exception as exc:
            return SendResult(Outcome.TEMPORARY, error=f"notifier did not start: {exc}")
        return await notifier.send(message)

    async def find_sent(self, message: Message, since: datetime) -> Sequence[str]:
        try:
            notifier = await asyncio.shield(self._task)
        except Exception as exc:
            raise LookupFailed(f"notifier did not start: {exc}") from exc
        return await notifier.find_sent(message, since)

    async def close(self) -> None:
        self._task.cancel()  # a no-op once it is done
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task
        if not self._task.cancelled() and self._task.exception() is None:
            await self._task.result().close()
