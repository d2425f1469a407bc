"""Fail points, for the fault-injection tests only (tests/chaos/): the process
kills itself (SIGKILL, as `kill -9` would) at a named point of the send path.

`PAGER_FAILPOINTS=after_claim` dies the first time that point is reached;
`after_accept@3` the third time; several are separated by commas. Unset (the
default, and always in production), every `hit` is a no-op. Like etcd's
gofail, this lets a test crash the daemon exactly between two steps instead
of hoping a random kill lands there.

Points: `after_claim` (rows claimed and started, committed, no request made
yet: the claim is the start), `before_send` (in the send's own task, the
request not made),
`after_accept` (the provider accepted, nothing recorded), `before_commit`
(the result written but not committed).
"""

from __future__ import annotations

import logging
import os
import signal

log = logging.getLogger(__name__)
POINTS = frozenset({"after_claim", "before_send", "after_accept", "before_commit"})


class Failpoints:
    def __init__(self, spec: str = "") -> None:
        self._armed: dict[str, int] = {}
        for item in filter(None, (part.strip() for part in spec.split(","))):
            name, _, nth = item.partition("@")
            if name not in POINTS or (nth and not nth.isdigit()):
                raise ValueError(
                    f"unknown fail point {item!r}: use NAME or NAME@N, NAME one of "
                    + ", ".join(sorted(POINTS))
                )
            self._armed[name] = int(nth or 1)

    def hit(self, name: str) -> None:
        if name not in self._armed:
            return
        self._armed[name] -= 1
        if self._armed[name] == 0:
            log.warning("fail point %s: killing the process", name)
            os.kill(os.getpid(), signal.SIGKILL)
