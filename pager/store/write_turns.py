"""SQLite's in-process write lock, handed on in turns between webhooks and the rest.

SQLite has one writer, so every write of the process waits for this lock. A
plain FIFO lock put a webhook batch behind every engine transaction queued
before it (the escalator, the sender's claim, a freed slot's claim, results):
at half of pager's own rate the lock was busy about 90% of the time and a
webhook waited for two or three of them. Here a writer marked `urgent` (the
ingest writer: a client waits for its 2xx) goes before the others waiting,
but never twice in a row while one of them waits: when an urgent holder
releases the lock and a non-urgent writer waits, that one goes next. So a
webhook batch waits for at most the holder and one other transaction, and the
engine, in a storm, still gets every other turn (page latency stays bounded).
Among writers of the same kind the order is first come, first served.
"""

from __future__ import annotations

import asyncio
from collections import deque


class WriteTurns:
    def __init__(self) -> None:
        self._held = False
        self._urgent_holds = False  # the current (or last) holder was urgent
        self._waiting: dict[bool, deque[asyncio.Future[None]]] = {True: deque(), False: deque()}

    @property
    def locked(self) -> bool:
        return self._held

    async def acquire(self, urgent: bool = False) -> None:
        if not self._held and not self._waiting[True] and not self._waiting[False]:
            self._held, self._urgent_holds = True, urgent
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self._waiting[urgent]
        queue.append(turn)
        try:
            await turn
        except BaseException:  # cancelled or timed out while waiting
            if turn.done() and not turn.cancelled():
                self.release()  # the turn came meanwhile: pass it on
            elif turn in queue:  # not yet passed over by a release
                queue.remove(turn)
            raise

    def release(self) -> None:
        if not self._held:
            raise RuntimeError("WriteTurns.release() without acquire()")
        # After an urgent holder the others go first; after another, the urgent.
        for urgent in (False, True) if self._urgent_holds else (True, False):
            queue = self._waiting[urgent]
            while queue:
                turn = queue.popleft()
                if not turn.done():
                    self._urgent_holds = urgent
                    turn.set_result(None)  # still held: it is this waiter's now
                    return
        self._held = False
