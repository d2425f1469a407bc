"""Maintenance windows made and ended: the one way the API and the console do it.

A window's matchers are checked before anything is written (MatcherError
names the bad one). Ending a window early releases the incidents it held
back (pager.store.maintenance.end_window) and wakes the engine to page them
now. Every replica's webhook path sees a change within its cache's life;
this one's at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pager.core.matchers import parse_matcher
from pager.services import Pager
from pager.store import maintenance
from pager.store.maintenance import WindowEnd
from pager.store.models import MaintenanceWindow


async def create_window(
    pager: Pager,
    matchers: Sequence[str],
    start: datetime,
    end: datetime,
    reason: str,
    by: str | None,
) -> MaintenanceWindow:
    """Store the window (MatcherError for a matcher that does not parse)."""
    for matcher in matchers:
        parse_matcher(matcher)
    window = MaintenanceWindow(
        matchers=list(matchers),
        start=start,
        end=end,
        reason=reason,
        created_at=pager.clock.now(),
        created_by=by,
    )
    async with pager.db.write() as session:
        session.add(window)
        await session.flush()
    pager.maintenance.invalidate()
    return window


async def end_window(pager: Pager, window_id: int, by: str | None) -> WindowEnd | None:
    """End it now (delete it if not started); None when there is no such window."""
    async with pager.db.write() as session:
        done = await maintenance.end_window(session, window_id, pager.clock.now(), by)
    pager.maintenance.invalidate()
    if done is not None and done.released:
        pager.engine.wake()
    return done
