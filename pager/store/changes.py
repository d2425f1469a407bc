"""What the console's live updates ask the database: has anything happened, and
which incidents are new.

Every change to an incident (opened, paged, delivered, acknowledged, resolved,
an alert added) appends a timeline event, so the newest event id is a single
cheap marker of "something changed" that works across replicas.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from pager.core.vocabulary import EventKind
from pager.store.models import Event, Incident


async def latest_event_id(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.max(Event.id))) or 0)


async def opened_after(session: AsyncSession, event_id: int, limit: int = 10) -> Sequence[Incident]:
    """Incidents whose `opened` event came after `event_id`, oldest first."""
    rows = await session.execute(
        select(Incident)
        .join(Event, Event.incident_id == Incident.id)
        .where(Event.id > event_id, Event.kind == EventKind.OPENED)
        .order_by(Event.id)
        .limit(limit)
    )
    return rows.scalars().all()
