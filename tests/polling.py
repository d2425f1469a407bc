"""Waiting for real processes (Alertmanager, Prometheus, `pager serve`), which run
on wall-clock time. Engine behaviour never waits: it runs on the FakeClock."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any


async def eventually(
    check: Callable[[], Any], within: float = 15.0, what: str = "", every: float = 0.05
) -> Any:
    """Poll `check` (plain or async) until it returns something truthy; return that."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"{what or 'condition'} not within {within}s; last: {result!r}")
        await asyncio.sleep(every)
