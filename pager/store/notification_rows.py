"""Every outbox row is made here: one function per kind of message.

A row is born `pending` with no attempts; the sender (engine/sender.py) takes
it from there. Its `key` is unique in the table, so the key is what makes a
message sent at most once however often the step that wants it runs (a replay,
two replicas, a retried transaction): each function documents its key's shape,
and a key must never depend on anything but the message's identity.

Builders are pure (no session, no clock): the caller passes `now` and the
text, already written by pager.core.page_text, and adds the row to its session.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pager.core.vocabulary import Channel, NotificationKind, NotificationState
from pager.store.models import Notification


def ordered(
    key: str,
    incident_id: int,
    person_id: str,
    phone: str,
    channel: Channel,
    kind: NotificationKind,
    priority: str,
    step: int,
    body: str,
    due_at: datetime,
    now: datetime,
    alert_received_at: datetime | None,
) -> Notification:
    """A message the escalation core ordered: a level's page, or a resolve notice.

    Key: the order's, `<incident>:<step>:<person>:<rule index>` for a page and
    `<incident>:resolved:<person>` for a notice (pager.core.escalation).
    `alert_received_at` is set on a level's first pages only, for
    pager_page_latency_seconds."""
    return Notification(
        key=key,
        incident_id=incident_id,
        person_id=person_id,
        phone=phone,
        channel=channel,
        kind=kind,
        priority=priority,
        step=step,
        body=body,
        state=NotificationState.PENDING,
        due_at=due_at,
        scheduled_at=due_at,
        attempts=0,
        created_at=now,
        alert_received_at=alert_received_at,
    )


def fallback_page(
    failed: Notification, incident_id: int, priority: str, channel: str, body: str, now: datetime
) -> Notification:
    """A page that failed for good, sent at once on the person's next channel.

    Key: `<failed key>:fb:<channel>`, so each channel is tried once per page; it
    keeps the failed page's step, schedule and alert time (the lateness counts
    from the first try)."""
    return Notification(
        key=f"{failed.key}:fb:{channel}",
        incident_id=incident_id,
        person_id=failed.person_id,
        phone=failed.phone,
        channel=channel,
        kind=NotificationKind.PAGE,
        priority=priority,
        step=failed.step,
        body=body,
        state=NotificationState.PENDING,
        due_at=now,
        scheduled_at=failed.scheduled_at,
        attempts=0,
        created_at=now,
        alert_received_at=failed.alert_received_at,
    )


def resend(row: Notification, now: datetime) -> Notification:
    """One more copy of a send of unknown fate the provider could not be asked
    about (a duplicate beats a miss: engine/unknown.py).

    Key: `<row key>:resend`, so a row is copied once, and never a copy."""
    return Notification(
        key=f"{row.key}:resend",
        incident_id=row.incident_id,
        person_id=row.person_id,
        phone=row.phone,
        channel=row.channel,
        kind=row.kind,
        priority=row.priority,
        step=row.step,
        body=row.body,
        state=NotificationState.PENDING,
        due_at=now,
        scheduled_at=row.scheduled_at,
        attempts=0,
        created_at=now,
        alert_received_at=None,
        bundle_of=row.bundle_of,
    )


def bundle(
    like: Notification, kind: NotificationKind, due_at: datetime, now: datetime, digest: bool
) -> Notification:
    """The throttle's empty bundle (pages) or digest (info messages) for `like`'s
    person and channel; the throttle folds rows into `bundle_of` and the sender
    writes its text when it goes.

    Key: `bundle:<person>:<channel>:<ms>` or `digest:...`, made when no bundle is
    waiting (its creation instant keeps a person's bundles apart)."""
    name = "digest" if digest else "bundle"
    return Notification(
        key=f"{name}:{like.person_id}:{like.channel}:{int(now.timestamp() * 1000)}",
        incident_id=None,
        person_id=like.person_id,
        phone=like.phone,
        channel=like.channel,
        kind=kind,
        priority=like.priority,
        step=0,
        body="",
        state=NotificationState.PENDING,
        due_at=due_at,
        attempts=0,
        created_at=now,
        bundle_of=[],
    )


def fallback_bundle(
    failed: Notification, channel: str, incident_ids: Sequence[Any], now: datetime
) -> Notification:
    """A bundle that failed for good, sent at once on the person's next channel.

    Key: `<failed key>:fb:<channel>` (the keys of its fallbacks list the
    channels tried)."""
    return Notification(
        key=f"{failed.key}:fb:{channel}",
        incident_id=None,
        person_id=failed.person_id,
        phone=failed.phone,
        channel=channel,
        kind=NotificationKind.BUNDLE,
        priority=failed.priority,
        step=0,
        body="",
        state=NotificationState.PENDING,
        due_at=now,
        attempts=0,
        created_at=now,
        bundle_of=list(incident_ids),
    )


def info(
    key: str,
    incident_id: int | None,
    person_id: str,
    phone: str,
    body: str,
    now: datetime,
    priority: str = "-",
) -> Notification:
    """A message that tells, never pages, by SMS: stakeholder notices, action-item
    and review reminders, handoff notices.

    Key: the caller's, naming what it tells and whom:
    `<incident>:stakeholder:<n>:<person>`, `reminder:action:<item>:<day>`,
    `reminder:review:<incident>`, `handoff:<rotation>:<start>:<person>`."""
    return Notification(
        key=key,
        incident_id=incident_id,
        person_id=person_id,
        phone=phone,
        channel=Channel.SMS,
        kind=NotificationKind.INFO,
        priority=priority,
        step=0,
        body=body,
        state=NotificationState.PENDING,
        due_at=now,
        attempts=0,
        created_at=now,
    )
