"""The notification outbox's writes: a timeline event about one row, the
advisory lock the throttle takes, an accepted send recorded (`mark_sent`).
Its rows are made in store/notification_rows.py, its queries live in
store/notifications.py, its claims in store/claims.py.
Callers own the transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Row, Table, bindparam, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from pager.core.vocabulary import EventKind, NotificationState
from pager.store.incidents import add_event
from pager.store.models import Incident, Notification
from pager.store.prebuilt import run

_NOTIFICATIONS, _INCIDENTS = (cast(Table, m.__table__) for m in (Notification, Incident))
_COLUMNS = _NOTIFICATIONS.c
_SENT_AT = _COLUMNS.sent_at.type
_INCIDENT_STATE = (
    select(_INCIDENTS.c.state)
    .where(_INCIDENTS.c.id == _COLUMNS.incident_id)
    .scalar_subquery()
    .label("incident_state")
)
# What recording an accepted send needs of its row (the rest stays in the database):
# the table's columns, so each is read with its column's type as the ORM reads it
# (UTCDateTime: aware UTC instants).
SENT_COLUMNS = (
    _COLUMNS.id,
    _COLUMNS.incident_id,
    _COLUMNS.person_id,
    _COLUMNS.channel,
    _COLUMNS.kind,
    _COLUMNS.step,
    _COLUMNS.scheduled_at,
    _COLUMNS.due_at,
    _COLUMNS.alert_received_at,
    _COLUMNS.sent_at,
)


def row_event(
    session: AsyncSession, row: Notification, now: datetime, kind: EventKind, **detail: Any
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


async def advisory_lock(session: AsyncSession, key: str) -> None:
    """A PostgreSQL lock on a name, held until the transaction ends."""
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": key})


# Core, on the table: an ORM-enabled update(Notification) cost about 2.5 times
# its CPU, on every accepted send (store/prebuilt.py).
_MARK_SENT = (
    update(_NOTIFICATIONS)
    .where(
        _COLUMNS.id == bindparam("p_id"),
        _COLUMNS.lease == bindparam("p_lease"),
        _COLUMNS.state.in_((NotificationState.SENDING, NotificationState.UNKNOWN)),
    )
    .values(
        state=NotificationState.SENT,
        lease=None,
        deadline=None,
        error_code=bindparam("p_code", type_=_COLUMNS.error_code.type),
        error=bindparam("p_error", type_=_COLUMNS.error.type),
        provider_id=func.coalesce(
            bindparam("p_provider_id", type_=_COLUMNS.provider_id.type), _COLUMNS.provider_id
        ),
        # typed as the column, so SQLite stores it as the ORM would (naive UTC)
        sent_at=func.coalesce(_COLUMNS.sent_at, bindparam("p_now", type_=_SENT_AT)),
    )
    .returning(*SENT_COLUMNS, _INCIDENT_STATE)
)  # built once: every accepted send runs it


async def mark_sent(
    session: AsyncSession,
    notification_id: int,
    lease: str,
    now: datetime,
    provider_id: str | None,
    code: int | None,
    error: str | None,
) -> Row[Any] | None:
    """An accepted send recorded in one statement, if the row is still this lease's
    and being sent (`sending`, or `unknown` after a lookup found it): its columns
    in SENT_COLUMNS and its incident's `incident_state`; else None (the caller
    looks closer: a callback came first, or the lease ran out). The UPDATE locks
    the row, as `lock_notification` would."""
    params = {  # named apart from the columns: an UPDATE's SET takes those names
        "p_id": notification_id,
        "p_lease": lease,
        "p_code": code,
        "p_error": error,
        "p_provider_id": provider_id or None,
        "p_now": now,
    }
    return await run(session, _MARK_SENT, params, _first)


def _first(result: CursorResult[Any]) -> Row[Any] | None:
    return result.first()
