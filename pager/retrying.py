"""What the daemon makes once it is ready (the Twilio client, the scheduled
jobs), made again until it is: a failure may pass (no file descriptor left
at start), and a daemon that stays without it until someone restarts it is
the worst outcome. Each failure is one line, the reason, not a traceback;
the tries are 1 s apart, then twice as long each time, at most a minute."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
MOST = 60.0  # seconds between two tries, at most


async def made_in_the_end(
    make: Callable[[], Awaitable[T]], what: str, meanwhile: str, first: float = 1.0
) -> T:
    """`make()`'s result, tried again after each failure (`what` could not start,
    `meanwhile` says what that means for the people paged)."""
    delay = first
    while True:
        try:
            return await make()
        except Exception as exc:
            log.warning(
                "%s could not start (%s); trying again in %.0f s: %s", what, meanwhile, delay, exc
            )
        await asyncio.sleep(delay)
        delay = min(2 * delay, MOST)
