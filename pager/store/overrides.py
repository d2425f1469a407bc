"""On-call overrides made through the API (policy overrides live in the YAML)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from pager.policy.model import RotationOverride
from pager.store.models import Override


async def list_overrides(
    session: AsyncSession, ending_after: datetime | None = None, rotation: str | None = None
) -> Sequence[Override]:
    query = select(Override).order_by(Override.start, Override.id)
    if ending_after is not None:
        query = query.where(Override.end > ending_after)
    if rotation is not None:
        query = query.where(Override.rotation_id == rotation)
    return (await session.execute(query)).scalars().all()


async def delete_override(session: AsyncSession, override_id: int) -> bool:
    result = await session.execute(delete(Override).where(Override.id == override_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def as_policy(row: Override) -> RotationOverride:
    return RotationOverride(
        person=row.person_id, start=row.start, end=row.end, replaces=row.replaces
    )


def by_rotation(rows: Sequence[Override]) -> dict[str, list[RotationOverride]]:
    found: dict[str, list[RotationOverride]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: r.id):  # the newest (last) wins
        found[row.rotation_id].append(as_policy(row))
    return dict(found)


_ACTIVE = (
    select(Override)
    .where(Override.start <= bindparam("now"), Override.end > bindparam("now"))
    .order_by(Override.id)
)  # built once: the escalator asks it for every batch


async def active_overrides(session: AsyncSession, now: datetime) -> Sequence[Override]:
    return (await session.execute(_ACTIVE, {"now": now})).scalars().all()


async def in_force(session: AsyncSession, now: datetime) -> dict[str, list[RotationOverride]]:
    """The overrides active at `now`, by rotation: whom a rotation stands for now
    (`pager.core.oncall.resolve_targets`), for a page as for a stakeholder notice."""
    return by_rotation(await active_overrides(session, now))
