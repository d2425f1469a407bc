"""Maintenance windows: alerts that match one are recorded but do not page.

Incidents that were already paging keep paging; only new incidents opened
while a window is active are suppressed, and their timeline says so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pager.core.matchers import Matcher, matches_all, parse_matcher
from pager.store.models import MaintenanceWindow


async def windows(session: AsyncSession) -> Sequence[MaintenanceWindow]:
    query = select(MaintenanceWindow).order_by(MaintenanceWindow.start)
    return (await session.execute(query)).scalars().all()


Suppressor = Callable[[dict[str, str]], MaintenanceWindow | None]


async def active_suppressor(session: AsyncSession, now: datetime) -> Suppressor:
    """labels -> the active window that suppresses them (the longest), or None;
    read from the database now (the webhook path uses MaintenanceCache)."""
    return await MaintenanceCache(ttl=timedelta(0)).suppressor(session, now)


class MaintenanceCache:
    """The windows not yet over, read at most every `ttl` on the webhook path.

    Windows made through this process's API are seen at once (`invalidate`);
    one made through another replica is seen within `ttl`. Activation by time
    is exact: each call checks start <= now < end itself.
    """

    def __init__(self, ttl: timedelta = timedelta(seconds=5)) -> None:
        self.ttl = ttl
        self._loaded_at: datetime | None = None
        self._windows: list[tuple[MaintenanceWindow, list[Matcher]]] = []

    def invalidate(self) -> None:
        self._loaded_at = None

    async def suppressor(self, session: AsyncSession, now: datetime) -> Suppressor:
        stale = self._loaded_at is None or not (self._loaded_at <= now < self._loaded_at + self.ttl)
        if stale:
            rows = await session.execute(
                select(MaintenanceWindow).where(MaintenanceWindow.end > now)
            )
            self._windows = [(w, [parse_matcher(m) for m in w.matchers]) for w in rows.scalars()]
            self._loaded_at = now
        return _matching([(w, ms) for w, ms in self._windows if w.start <= now < w.end])


def _matching(current: list[tuple[MaintenanceWindow, list[Matcher]]]) -> Suppressor:
    def suppressor(labels: dict[str, str]) -> MaintenanceWindow | None:
        matching = [w for w, ms in current if matches_all(ms, labels)]
        return max(matching, key=lambda w: w.end) if matching else None

    return suppressor
