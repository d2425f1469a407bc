"""Making and removing on-call overrides: the one way the API and the console do it.

Guarantees: an override that conflicts with another of its rotation (see
`pager.core.rotation.find_overlap`: overlapping periods covering the same
turns) is refused with that other override, and nothing is written; a made or
removed override is written together with its audit entry (who, when), so
every change of the schedule has an author; the engine is woken, so a level
being paged right now reaches the new person at its next step.
"""

from __future__ import annotations

from dataclasses import dataclass

from pager.core.rotation import find_overlap
from pager.policy.model import RotationOverride
from pager.services import Pager
from pager.store import audit
from pager.store import overrides as store
from pager.store.models import Override


class OverrideClash(Exception):
    def __init__(self, rotation: str, clash: RotationOverride) -> None:
        super().__init__(f"overlaps an override of {clash.person} for {rotation}")
        self.rotation, self.clash = rotation, clash


@dataclass(frozen=True)
class NewOverride:
    rotation: str
    override: RotationOverride  # start and end are instants (UTC)
    note: str = ""
    by: str | None = None


def subject(rotation: str) -> str:
    return f"rotation:{rotation}"


async def add_override(pager: Pager, new: NewOverride) -> Override:
    """Store the override, or raise OverrideClash (and store nothing)."""
    spec = pager.policies.active.policy.rotation(new.rotation)
    now = pager.clock.now()
    o = new.override
    async with pager.db.write() as session:
        existing = await store.list_overrides(session, o.start, new.rotation)
        known = [*spec.overrides, *(store.as_policy(row) for row in existing)]
        clash = find_overlap(known, o, spec.timezone)
        if clash is not None:
            raise OverrideClash(new.rotation, clash)
        row = Override(
            rotation_id=new.rotation,
            person_id=o.person,
            replaces=o.replaces,
            start=o.start,
            end=o.end,
            note=new.note,
            created_at=now,
            created_by=new.by,
        )
        session.add(row)
        await session.flush()
        audit.record(session, now, new.by, "override_added", subject(new.rotation), **_detail(row))
    pager.engine.wake()
    return row


async def remove_override(pager: Pager, override_id: int, by: str | None) -> Override | None:
    """Remove the override; None when there is none with that id."""
    now = pager.clock.now()
    async with pager.db.write() as session:
        row = await session.get(Override, override_id)
        if row is None:
            return None
        await store.delete_override(session, override_id)
        audit.record(session, now, by, "override_removed", subject(row.rotation_id), **_detail(row))
    pager.engine.wake()
    return row


def _detail(row: Override) -> dict[str, object]:
    return {
        "override": row.id,
        "person": row.person_id,
        "replaces": row.replaces,
        "start": row.start.isoformat(),
        "end": row.end.isoformat(),
    }
