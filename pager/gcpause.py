"""The cyclic garbage collector paused while `pager serve` starts (issue 18:
start to ready ≤ 1 s).

A start makes about 170,000 objects that live as long as the process
(modules, classes, SQLAlchemy's mappers, pydantic's validators, the policy)
and almost no garbage: a collection at ready finds about 2,000 unreachable
objects, what building classes left (types, functions, tuples; no file,
socket, connection or task), and frees no resident memory. The collector,
run every 700 allocations, walked the rest again and again: 0.1 s of a
0.75 s start here (two of its full collections, 16 and 41 ms, one of them
while the policy version was stored).

`paused()` turns it off for the start. `resume()`, called once the daemon
has its state and serves, freezes what the start made (`gc.freeze()`: moved
to the permanent generation, never walked again; the start's little garbage
stays there) and turns the collector back on, so the objects made while
serving are collected as before, and no later full collection walks the
start's 170,000 again. A policy read at the start and dropped by a reload is
still freed: it holds no cycle, its reference counts free it. Leaving
`paused()` without `resume()` (a start that failed, a test's CLI call) only
turns the collector back on, as it was.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[Callable[[], None]]:
    """The collector off until the `resume` yielded is called, or the block ends."""
    was_enabled = gc.isenabled()
    resumed = False

    def resume() -> None:
        nonlocal resumed
        if not resumed:
            resumed = True
            gc.freeze()
            if was_enabled:
                gc.enable()

    gc.disable()
    try:
        yield resume
    finally:
        if not resumed and was_enabled:
            gc.enable()
