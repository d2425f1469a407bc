"""The notification outbox and the engine's claims.

Claims happen inside the caller's write transaction. On PostgreSQL they use
FOR UPDATE SKIP LOCKED, so replicas split the due rows between them instead
of waiting for each other or taking the same row twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from pager.store.models import Incident, Notification, Override

SENDABLE = ("pending", "failed_temp")
_T = TypeVar("_T", bound=Any)


def _claim(query: Select[_T], skip_locked: bool) -> Select[_T]:
    # NO KEY UPDATE: timeline inserts (a foreign key's KEY SHARE) need not wait for us.
    return query.with_for_update(skip_locked=True, key_share=True) if skip_locked else query


async def claim_incidents(
    session: AsyncSession, now: datetime, limit: int, skip_locked: bool
) -> Sequence[Incident]:
    query = (
        select(Incident)
        .where(Incident.next_action_at <= now)
        .order_by(Incident.next_action_at)
        .limit(limit)
    )
    return (await session.execute(_claim(query, skip_locked))).scalars().all()


async def claim_notifications(
    session: AsyncSession, now: datetime, limit: int, skip_locked: bool
) -> Sequence[Notification]:
    query = (
        select(Notification)
        .where(Notification.state.in_(SENDABLE), Notification.due_at <= now)
        .order_by(Notification.due_at, Notification.id)
        .limit(limit)
    )
    return (await session.execute(_claim(query, skip_locked))).scalars().all()


async def claim_stuck(
    session: AsyncSession, now: datetime, limit: int, skip_locked: bool
) -> Sequence[Notification]:
    """Rows still `sending` past their deadline: the sender died or hung."""
    query = (
        select(Notification)
        .where(Notification.state == "sending", Notification.deadline <= now)
        .order_by(Notification.deadline)
        .limit(limit)
    )
    return (await session.execute(_claim(query, skip_locked))).scalars().all()


async def next_due(session: AsyncSession) -> datetime | None:
    """The earliest instant at which the engine has something to do."""
    times = [
        await session.scalar(select(func.min(Incident.next_action_at))),
        await session.scalar(
            select(func.min(Notification.due_at)).where(Notification.state.in_(SENDABLE))
        ),
        await session.scalar(
            select(func.min(Notification.deadline)).where(Notification.state == "sending")
        ),
    ]
    known = [t for t in times if t is not None]
    return min(known) if known else None


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
    first; one being sent right now (claimed, maybe by another batch) counts as now."""
    rows = await session.execute(
        select(Notification.sent_at, Notification.state).where(
            Notification.person_id == person,
            Notification.channel == channel,
            Notification.kind.in_(kinds),
            # Strictly after: a send exactly one window ago has left the window.
            # With `>=` the window "frees" at `now` itself, the bundle is put
            # back to `now` forever and the engine spins without sending it.
            or_(Notification.sent_at > since, Notification.state == "sending"),
        )
    )
    return sorted(
        sent if sent is not None and state != "sending" else now for sent, state in rows.all()
    )


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
