"""Delivery status from Twilio, applied to the outbox row it is about.

A callback is applied only to the message it is about: its MessageSid/CallSid
must be the row's `provider_id`. A row may have none yet while its send is in
flight (`sending`: Twilio may call back before the sender commits the sid) or
when the send timed out after Twilio took it (`unknown`); then the callback's
sid is adopted, so any later callback about another message is told apart.
Anything else (another message's callback, or one for a row that was never
handed to Twilio) is ignored and counted (`pager_status_callbacks_mismatched_total`).

Statuses only move forward (a late `sent` never overwrites `delivered`). A
failed delivery (`undelivered`, `failed`, `no-answer`, `busy`), or a call that a
machine answered, falls back to the person's next channel.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from pager.core.delivery import FAILED_STATUSES, status_moves
from pager.core.vocabulary import EventKind, NotificationState
from pager.engine.fallback import fall_back
from pager.services import Pager
from pager.store.models import Notification
from pager.store.notifications import notification
from pager.store.outbox import row_event
from pager.twilio_hooks.form import StatusForm

log = logging.getLogger(__name__)
# Provider statuses that change our row; the rest (queued, ringing, ...) are progress.
DONE = frozenset({"delivered", "completed", "read"})  # Twilio's words for delivered
IN_FLIGHT = (
    NotificationState.SENDING,
    NotificationState.UNKNOWN,
)  # a send may have reached Twilio, its sid not recorded


def fits(row: Notification, sid: str | None) -> bool:
    """Whether a request with this sid may be about `row`'s message."""
    if sid is None:
        return False
    return row.provider_id == sid or (row.provider_id is None and row.state in IN_FLIGHT)


def is_ours(pager: Pager, row: Notification, sid: str | None) -> bool:
    """`fits`, adopting the sid when the row has none; a misfit is logged and counted."""
    if fits(row, sid):
        row.provider_id = row.provider_id or sid
        return True
    mismatched(pager, row, sid)
    return False


def mismatched(pager: Pager, row: Notification, sid: str | None) -> None:
    pager.metrics.callbacks_mismatched.labels(row.channel).inc()
    log.warning(
        "Twilio request for another message ignored",
        extra={"notification_id": row.id, "sid": sid, "provider_id": row.provider_id},
    )


async def record(pager: Pager, notification_id: int, form: StatusForm) -> None:
    now = pager.clock.now()
    async with pager.db.write() as session:
        row = await notification(session, notification_id, lock=not pager.db.is_sqlite)
        if row is None or not is_ours(pager, row, form.sid):
            return
        if form.status in FAILED_STATUSES:
            await _failed(pager, session, row, form.status, form.error_code)
        elif form.status in DONE and status_moves(row.state, NotificationState.DELIVERED):
            row.state, row.delivered_at = NotificationState.DELIVERED, now
            pager.metrics.notifications.labels(row.channel, NotificationState.DELIVERED).inc()
            row_event(session, row, now, EventKind.NOTIFICATION_DELIVERED)


async def record_machine(
    pager: Pager, notification_id: int, call_sid: str, answered_by: str
) -> None:
    async with pager.db.write() as session:
        row = await notification(session, notification_id, lock=not pager.db.is_sqlite)
        if row is not None and is_ours(pager, row, call_sid):
            await _failed(pager, session, row, f"answered by {answered_by}", None)


async def _failed(
    pager: Pager, session: AsyncSession, row: Notification, why: str, code: int | None
) -> None:
    if not status_moves(row.state, NotificationState.FAILED_PERM):
        return
    now = pager.clock.now()
    row.state, row.error, row.error_code = NotificationState.FAILED_PERM, why, code
    pager.metrics.notifications.labels(row.channel, NotificationState.FAILED_PERM).inc()
    row_event(session, row, now, EventKind.NOTIFICATION_FAILED_PERM, error=why, code=code)
    await fall_back(session, row, pager.policies, now)
