"""The notification outbox: rows the engine writes and reads besides its claims
(store/claims.py). Callers own the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from pager.store.incidents import add_event
from pager.store.models import Notification, Override


def row_event(
    session: AsyncSession, row: Notification, now: datetime, kind: str, **detail: Any
) -> None:
    """A timeline event about one notification (none for those of no incident)."""
    if row.incident_id is not None:
        add_event(
            session,
            row.incident_id,
            now,
            kind,
            None,
            notification_id=row.id,
            person=row.person_id,
            channel=row.channel,
            **detail,
        )


async def waiting_bundle(
    session: AsyncSession, person_id: str, channel: str, kind: str = "bundle"
) -> Notification | None:
    """The person's bundle (or, with kind "info", digest) on `channel` not sent yet."""
    found = await session.execute(
        select(Notification).where(
            Notification.person_id == person_id,
            Notification.channel == channel,
            Notification.kind == kind,
            Notification.state == "pending",
            Notification.bundle_of.is_not(None),
        )
    )
    return found.scalars().first()


def info_message(
    key: str,
    incident_id: int | None,
    person_id: str,
    phone: str,
    body: str,
    now: datetime,
    priority: str = "-",
) -> Notification:
    """An outbox row that tells, never pages: stakeholder notices, reminders."""
    return Notification(
        key=key,
        incident_id=incident_id,
        person_id=person_id,
        phone=phone,
        channel="sms",
        kind="info",
        priority=priority,
        step=0,
        body=body,
        state="pending",
        due_at=now,
        attempts=0,
        created_at=now,
    )


async def active_overrides(session: AsyncSession, now: datetime) -> Sequence[Override]:
    query = select(Override).where(Override.start <= now, Override.end > now).order_by(Override.id)
    return (await session.execute(query)).scalars().all()


async def sent_times(
    session: AsyncSession,
    person: str,
    channel: str,
    since: datetime,
    now: datetime,
    kinds: tuple[str, ...],
) -> list[datetime]:
    """When the person's messages of `kinds` went out within the window, oldest
    first. One being sent right now (claimed, maybe by another batch or replica)
    counts as now; one of unknown fate as of when its request started."""
    rows = await session.execute(
        select(Notification.sent_at, Notification.started_at, Notification.state).where(
            Notification.person_id == person,
            Notification.channel == channel,
            Notification.kind.in_(kinds),
            # Strictly after: a send exactly one window ago has left the window.
            # With `>=` the window "frees" at `now` itself, the bundle is put
            # back to `now` forever and the engine spins without sending it.
            or_(
                Notification.sent_at > since,
                Notification.state == "sending",
                and_(Notification.state == "unknown", Notification.started_at > since),
            ),
        )
    )
    return sorted(_counted_at(*row, now) for row in rows.all())


def _counted_at(
    sent_at: datetime | None, started_at: datetime | None, state: str, now: datetime
) -> datetime:
    if state == "sending":
        return now
    return sent_at or started_at or now


async def bodies_of(session: AsyncSession, notification_ids: Sequence[Any]) -> list[str]:
    rows = await session.execute(
        select(Notification.body)
        .where(Notification.id.in_(notification_ids))
        .order_by(Notification.id)
    )
    return list(rows.scalars())


async def advisory_lock(session: AsyncSession, key: str) -> None:
    """A PostgreSQL lock on a name, held until the transaction ends."""
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": key})


async def step_pages(
    session: AsyncSession, incident_id: int | None, step: int, person_id: str | None = None
) -> list[Notification]:
    """The page rows of one escalation step (of one person, if given)."""
    query = select(Notification).where(
        Notification.incident_id == incident_id,
        Notification.step == step,
        Notification.kind == "page",
    )
    if person_id is not None:
        query = query.where(Notification.person_id == person_id)
    return list((await session.execute(query)).scalars())
