"""The engine's claims: due incidents, sendable notifications, and rows whose
`deadline` has come (an expired claim, an unknown send to look up, a
cancellation to count).

Claims happen inside the caller's write transaction. On PostgreSQL they use
FOR UPDATE SKIP LOCKED, so replicas split the due rows between them instead
of waiting for each other or taking the same row twice.

LOCK ORDER (PostgreSQL, with store/incidents.py): whoever locks both an
incident and one of its notification rows locks the incident first. The
sender's claim (which is also the start) locks only its rows (then reads
their incidents); a result that may fall back (which moves the incident)
locks the incident, then the row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from pager.core.vocabulary import NotificationState
from pager.store.models import Incident, Notification

SENDABLE = (NotificationState.PENDING, NotificationState.FAILED_TEMP)
_T = TypeVar("_T", bound=Any)


def _claim(query: Select[_T], skip_locked: bool) -> Select[_T]:
    # NO KEY UPDATE: timeline inserts (a foreign key's KEY SHARE) need not wait for us.
    return query.with_for_update(skip_locked=True, key_share=True) if skip_locked else query


# The engine's statements of every page are built once, with bound parameters: a
# statement built anew costs its cache key again at each execution (about half
# a millisecond on a busy machine), which is most of what a small query costs.
_INCIDENTS_DUE = (
    select(Incident)
    .where(Incident.next_action_at <= bindparam("now"))
    .order_by(Incident.next_action_at)
    .limit(bindparam("limit"))
)
_CLAIM_INCIDENTS = {False: _INCIDENTS_DUE, True: _claim(_INCIDENTS_DUE, True)}
_NOTIFICATIONS_DUE = (
    select(Notification)
    .where(Notification.state.in_(SENDABLE), Notification.due_at <= bindparam("now"))
    .order_by(Notification.due_at, Notification.id)
    .limit(bindparam("limit"))
)
_CLAIM_NOTIFICATIONS = {False: _NOTIFICATIONS_DUE, True: _claim(_NOTIFICATIONS_DUE, True)}


async def claim_incidents(
    session: AsyncSession, now: datetime, limit: int, skip_locked: bool
) -> Sequence[Incident]:
    found = await session.execute(_CLAIM_INCIDENTS[skip_locked], {"now": now, "limit": limit})
    return found.scalars().all()


async def claim_notifications(
    session: AsyncSession, now: datetime, limit: int, skip_locked: bool
) -> Sequence[Notification]:
    params = {"now": now, "limit": limit}
    return (await session.execute(_CLAIM_NOTIFICATIONS[skip_locked], params)).scalars().all()


_DEADLINES = (
    select(Notification)
    .where(Notification.state == bindparam("state"), Notification.deadline <= bindparam("now"))
    .order_by(Notification.deadline, Notification.id)
    .limit(bindparam("limit"))
)
_CLAIM_DEADLINES = {False: _DEADLINES, True: _claim(_DEADLINES, True)}
_DEADLINE_PASSED = (
    select(Notification.id)
    .where(
        Notification.state.in_(bindparam("states", expanding=True)),
        Notification.deadline <= bindparam("now"),
    )
    .limit(1)
)


async def claim_deadlines(
    session: AsyncSession, state: str, now: datetime, limit: int, skip_locked: bool
) -> Sequence[Notification]:
    """Rows in `state` whose deadline has come, oldest first."""
    params = {"state": state, "now": now, "limit": limit}
    return (await session.execute(_CLAIM_DEADLINES[skip_locked], params)).scalars().all()


async def deadline_passed(session: AsyncSession, states: Sequence[str], now: datetime) -> bool:
    """Whether any row in `states` has a deadline that passed (a read: the claim that
    follows takes the write lock only when there is work)."""
    found = await session.scalar(_DEADLINE_PASSED, {"states": list(states), "now": now})
    return found is not None


@dataclass(frozen=True)
class NextInstants:
    """When each of the engine's table-driven steps next has work (None: nothing)."""

    escalation: datetime | None  # an incident to move on
    send: datetime | None  # a page or message to claim
    reconcile: datetime | None  # a claim expired, a cancellation to count
    lookup: datetime | None  # an unknown send to ask the provider about


RECONCILED = (NotificationState.SENDING, NotificationState.CANCELLED)
LOOKED_UP = (NotificationState.UNKNOWN,)
_INSTANTS = "pager_next_instants"


async def next_instants(session: AsyncSession) -> NextInstants:
    """All four in one statement (four index lookups), read once per transaction:
    each step asks for its own, and the engine asks every step at each wake-up."""
    known = session.info.get(_INSTANTS)
    if isinstance(known, NextInstants):
        return known
    row = (await session.execute(_NEXT_INSTANTS)).one()
    found = NextInstants(*row)
    session.info[_INSTANTS] = found
    return found


def _min(column: Any, states: Sequence[str]) -> Any:
    return select(func.min(column)).where(Notification.state.in_(states)).scalar_subquery()


_NEXT_INSTANTS = select(
    select(func.min(Incident.next_action_at)).scalar_subquery(),
    _min(Notification.due_at, SENDABLE),
    _min(Notification.deadline, RECONCILED),
    _min(Notification.deadline, LOOKED_UP),
)


async def current_incident(
    session: AsyncSession, incident_id: int | None, lock: bool = False
) -> Incident | None:
    """The incident as committed now (not as this session last saw it); with
    `lock`, FOR NO KEY UPDATE (PostgreSQL)."""
    if incident_id is None:
        return None
    query = select(Incident).where(Incident.id == incident_id)
    if lock:
        query = query.with_for_update(key_share=True)
    query = query.execution_options(populate_existing=True)
    return (await session.execute(query)).scalar_one_or_none()


async def lock_notification(session: AsyncSession, notification_id: int) -> Notification | None:
    query = (
        select(Notification)
        .where(Notification.id == notification_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.execute(query)).scalar_one_or_none()
