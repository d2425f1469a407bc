"""Sign-in attempt limits: at most `limit` hits per key in a sliding `window`.

Time is a parameter (the injected clock), so tests move it instead of
sleeping. Memory is bounded: idle keys are dropped, and past `max_keys` the
oldest key goes first. Limits are per replica; behind a load balancer each
replica allows its own share, which still bounds guessing to a few tries a
minute against bcrypt.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from datetime import datetime, timedelta


class RateLimit:
    def __init__(self, limit: int, window: timedelta, max_keys: int = 10_000) -> None:
        self.limit, self.window, self.max_keys = limit, window, max_keys
        self._hits: OrderedDict[str, deque[datetime]] = OrderedDict()

    def wait(self, key: str, now: datetime) -> timedelta | None:
        """How long until `key` may try again; None when it may try now."""
        hits = self._recent(key, now)
        if len(hits) < self.limit:
            return None
        return hits[0] + self.window - now

    def hit(self, key: str, now: datetime) -> None:
        hits = self._recent(key, now)
        hits.append(now)
        self._hits[key] = hits
        self._hits.move_to_end(key)
        while len(self._hits) > self.max_keys:
            self._hits.popitem(last=False)

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        hits = self._hits.get(key, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if not hits:
            self._hits.pop(key, None)
        return hits
