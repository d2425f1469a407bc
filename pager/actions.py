"""Incident actions shared by the admin API, SMS replies and keypresses:
one transaction each, then the engine is woken and the metrics told.

Acknowledging or resolving a drill completes it (pager.core.drills): it is
resolved as "drill complete" at once and pages nobody again."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from pager.core.via import Via
from pager.services import Pager
from pager.store import incidents as store
from pager.store.drills import complete_drill
from pager.store.models import Incident

Action = Callable[[AsyncSession, Incident, datetime, str | None, Via], Awaitable[bool]]
ACTIONS: dict[str, Action] = {
    "ack": store.acknowledge,
    "resolve": store.resolve,
    "escalate": store.escalate,
}


async def act(pager: Pager, incident_id: int, action: Action, by: str | None, via: Via) -> bool:
    """Apply `action`; False when the incident's state did not allow it."""
    now = pager.clock.now()

    async def apply(session: AsyncSession) -> tuple[bool, str, datetime, bool]:
        incident = await store.get_for_update(session, incident_id)
        if incident.drill and action in (store.acknowledge, store.resolve):
            changed = await complete_drill(session, incident, now, by, via)  # its answer
        else:
            changed = await action(session, incident, now, by, via)
        return changed, incident.priority, incident.created_at, incident.drill

    changed, priority, created, drill = await pager.db.transact(apply)
    if changed:
        pager.engine.wake()
        if not drill:
            seconds = (now - created).total_seconds()
            if action is store.acknowledge:
                pager.metrics.time_to_ack.labels(priority).observe(seconds)
            elif action is store.resolve:
                pager.metrics.time_to_resolve.labels(priority).observe(seconds)
    return changed
