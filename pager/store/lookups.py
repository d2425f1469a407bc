"""Small lookups for inbound messages: which notification a reply or callback is about."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from pager.store.models import Notification

DELIVERED_STATES = ("sending", "sent", "delivered", "unknown")


async def newest_page_to(session: AsyncSession, person_id: str) -> Notification | None:
    """The newest page or bundle that went out to a person (for a bare `A`)."""
    found = await session.execute(
        select(Notification)
        .where(
            Notification.person_id == person_id,
            Notification.kind.in_(("page", "bundle")),
            Notification.state.in_(DELIVERED_STATES),
        )
        # A send still in flight or timed out ("unknown") has no sent_at: count it
        # as of when it was due. A bare NULL would sort first on PostgreSQL and
        # last on SQLite, so an old unknown page took every bare `A` on PostgreSQL.
        .order_by(
            func.coalesce(Notification.sent_at, Notification.due_at).desc(),
            Notification.id.desc(),
        )
        .limit(1)
    )
    return found.scalar_one_or_none()


async def notification(
    session: AsyncSession, notification_id: int, lock: bool = False
) -> Notification | None:
    query = select(Notification).where(Notification.id == notification_id)
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def was_paged(session: AsyncSession, incident_id: int, person_id: str) -> bool:
    """Whether the incident's escalation chose to page the person (a page of it, in
    any state, or a bundle that named it). Stakeholders' FYIs do not count."""
    direct = await session.scalar(
        select(Notification.id)
        .where(
            Notification.incident_id == incident_id,
            Notification.person_id == person_id,
            Notification.kind == "page",
        )
        .limit(1)
    )
    if direct is not None:
        return True
    bundles = await session.execute(
        select(Notification.bundle_of).where(
            Notification.person_id == person_id,
            Notification.kind == "bundle",
            Notification.bundle_of.is_not(None),
        )
    )
    return any(incident_id in {int(i) for i in ids or []} for ids in bundles.scalars())
