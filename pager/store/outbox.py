"""The notification outbox's writes: a row that tells (`info_message`), a
timeline event about one row, the advisory lock the throttle takes. Its
queries live in store/notifications.py, its claims in store/claims.py.
Callers own the transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from pager.store.incidents import add_event
from pager.store.models import Notification


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


async def advisory_lock(session: AsyncSession, key: str) -> None:
    """A PostgreSQL lock on a name, held until the transaction ends."""
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": key})
