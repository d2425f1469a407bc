"""Action items from post-incident reviews: owner, due date, state."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from pager.store.models import ActionItem


async def list_items(
    session: AsyncSession,
    incident_id: int | None = None,
    state: str | None = None,
    owner: str | None = None,
) -> Sequence[ActionItem]:
    query = select(ActionItem).order_by(ActionItem.due, ActionItem.id)
    if incident_id is not None:
        query = query.where(ActionItem.incident_id == incident_id)
    if state is not None:
        query = query.where(ActionItem.state == state)
    if owner is not None:
        query = query.where(ActionItem.owner == owner)
    return (await session.execute(query)).scalars().all()


async def overdue(session: AsyncSession, now: datetime) -> Sequence[ActionItem]:
    query = select(ActionItem).where(ActionItem.state == "open", ActionItem.due < now)
    return (await session.execute(query.order_by(ActionItem.id))).scalars().all()


async def get_item(session: AsyncSession, item_id: int) -> ActionItem | None:
    return await session.get(ActionItem, item_id)


async def open_counts(session: AsyncSession, now: datetime) -> tuple[int, int]:
    """(open items past due, all open items)."""
    open_items = select(func.count()).select_from(ActionItem).where(ActionItem.state == "open")
    late = int(await session.scalar(open_items.where(ActionItem.due < now)) or 0)
    return late, int(await session.scalar(open_items) or 0)
