"""Delivery status from Twilio, applied to the outbox row it is about.

Statuses only move forward (a late `sent` never overwrites `delivered`). A
failed delivery (`undelivered`, `failed`, `no-answer`, `busy`), or a call that a
machine answered, falls back to the person's next channel.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from pager.core.delivery import FAILED_STATUSES, status_moves
from pager.engine.delivery import fall_back
from pager.services import Pager
from pager.store.incidents import add_event
from pager.store.lookups import notification
from pager.store.models import Notification

# Provider statuses that change our row; the rest (queued, ringing, ...) are progress.
DONE = {"delivered": "delivered", "completed": "delivered", "read": "delivered"}


async def record(pager: Pager, notification_id: int, form: dict[str, str]) -> None:
    provider_status = form.get("MessageStatus") or form.get("CallStatus") or ""
    code = form.get("ErrorCode")
    now = pager.clock.now()
    async with pager.db.write() as session:
        row = await notification(session, notification_id, lock=not pager.db.is_sqlite)
        if row is None:
            return
        if provider_status in FAILED_STATUSES:
            await _failed(
                pager,
                session,
                row,
                f"{provider_status}",
                int(code) if code and code.isdigit() else None,
            )
        elif provider_status in DONE and status_moves(row.state, "delivered"):
            row.state, row.delivered_at = "delivered", now
            pager.metrics.notifications.labels(row.channel, "delivered").inc()
            _event(session, row, now, "notification_delivered")


async def record_machine(pager: Pager, notification_id: int, answered_by: str) -> None:
    async with pager.db.write() as session:
        row = await notification(session, notification_id, lock=not pager.db.is_sqlite)
        if row is not None:
            await _failed(pager, session, row, f"answered by {answered_by}", None)


async def _failed(
    pager: Pager, session: AsyncSession, row: Notification, why: str, code: int | None
) -> None:
    if not status_moves(row.state, "failed_perm"):
        return
    now = pager.clock.now()
    row.state, row.error, row.error_code = "failed_perm", why, code
    pager.metrics.notifications.labels(row.channel, "failed_perm").inc()
    _event(session, row, now, "notification_failed_perm", error=why, code=code)
    await fall_back(session, row, pager.policies, now)


def _event(
    session: AsyncSession, row: Notification, now: datetime, kind: str, **detail: Any
) -> None:
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
