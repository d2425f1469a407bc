"""Maintenance windows: alerts that match one are recorded but do not page.

Incidents that were already paging keep paging; only new incidents opened
while a window is active are suppressed, and their timeline says so.

A window can be ended early (`end_window`): one not started yet is deleted; a
running one ends now, and each open incident it suppressed is told so on its
timeline (`maintenance_ended`) and pages now, unless another active window
still covers it (then `suppressed` again, by that window, until it ends).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pager.core.vocabulary import EventKind, IncidentState
from pager.labels import Matcher, MatcherError, matches_all, parse_stored
from pager.store.incidents import add_event, note_suppressed
from pager.store.models import Event, Incident, MaintenanceWindow

log = logging.getLogger(__name__)


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
            read = ((w, _matchers(w)) for w in rows.scalars())
            self._windows = [(w, ms) for w, ms in read if ms is not None]
            self._loaded_at = now
        return _matching([(w, ms) for w, ms in self._windows if w.start <= now < w.end])


def _matchers(window: MaintenanceWindow) -> list[Matcher] | None:
    """A stored window's matchers; None (the window is skipped, never matches all)
    if one no longer reads: one old row must not fail every webhook."""
    try:
        return [m for text in window.matchers for m in parse_stored(text)]
    except MatcherError as err:
        log.error("maintenance window %s skipped: %s", window.id, err)
        return None


def _matching(current: list[tuple[MaintenanceWindow, list[Matcher]]]) -> Suppressor:
    def suppressor(labels: dict[str, str]) -> MaintenanceWindow | None:
        matching = [w for w, ms in current if matches_all(ms, labels)]
        return max(matching, key=lambda w: w.end) if matching else None

    return suppressor


class Ending(StrEnum):
    DELETED = "deleted"  # it had not started: as if it never was
    ENDED = "ended"  # it was running: it ends now
    OVER = "over"  # it had ended already: nothing to do


@dataclass(frozen=True)
class WindowEnd:
    ending: Ending
    window: MaintenanceWindow
    released: tuple[int, ...] = ()  # incidents that page now


async def end_window(
    session: AsyncSession, window_id: int, now: datetime, by: str | None
) -> WindowEnd | None:
    """End a window now (see the module docstring); None when there is no such window."""
    window = await session.get(MaintenanceWindow, window_id, with_for_update=True)
    if window is None:
        return None
    if window.end <= now:
        return WindowEnd(Ending.OVER, window)
    if window.start > now:
        await session.delete(window)
        return WindowEnd(Ending.DELETED, window)
    window.end = now
    await session.flush()
    still = await active_suppressor(session, now)  # the other windows, without this one
    released = []
    for incident in await _suppressed_by(session, window.id):
        other = still(incident.labels)
        if other is None:
            incident.suppressed, incident.next_action_at = False, now
            add_event(
                session,
                incident.id,
                now,
                EventKind.MAINTENANCE_ENDED,
                by,
                maintenance_window=window.id,
                early=True,
            )
            released.append(incident.id)
        else:
            incident.next_action_at = other.end
            note_suppressed(session, incident.id, other, now)
    return WindowEnd(Ending.ENDED, window, tuple(released))


async def _suppressed_by(session: AsyncSession, window_id: int) -> list[Incident]:
    """Open incidents held back by this window (their latest `suppressed` event names it)."""
    rows = await session.execute(
        select(Incident, Event)
        .join(Event, Event.incident_id == Incident.id)
        .where(
            Incident.suppressed.is_(True),
            Incident.state != IncidentState.RESOLVED,
            Event.kind == EventKind.SUPPRESSED,
        )
        .order_by(Incident.id, Event.id)
    )
    latest: dict[int, tuple[Incident, Event]] = {}
    for incident, event in rows.all():
        latest[incident.id] = (incident, event)
    return [i for i, e in latest.values() if e.detail.get("maintenance_window") == window_id]
