"""How a drill ends in the database (the rules: pager.core.drills).

Callers own the transaction; the incident is locked by the caller
(`incidents.get_for_update`, or the engine's claim).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from pager.core import drills
from pager.core.via import Via
from pager.core.vocabulary import IncidentState
from pager.store.incidents import acknowledge, resolve
from pager.store.models import Incident


async def complete_drill(
    session: AsyncSession, incident: Incident, now: datetime, by: str | None, via: Via
) -> bool:
    """A drill has its answer: acknowledged (if it was not yet), then resolved as
    "drill complete", so it never pages again."""
    if incident.state == IncidentState.RESOLVED:
        return False
    if incident.state == IncidentState.TRIGGERED:
        await acknowledge(session, incident, now, by, via)
    incident.drill_outcome = drills.DrillOutcome.COMPLETE
    return await resolve(session, incident, now, by, via, reason=drills.COMPLETE_REASON)


async def end_unanswered_drill(session: AsyncSession, incident: Incident, now: datetime) -> None:
    """The drill's deadline came before any answer."""
    incident.drill_outcome = drills.DrillOutcome.UNANSWERED
    await resolve(session, incident, now, None, Via.DRILL, reason=drills.UNANSWERED_REASON)
