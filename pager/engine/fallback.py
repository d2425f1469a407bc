"""Falling back when a channel cannot reach a person.

Used by the sender (permanent send failures) and by provider status callbacks
(`undelivered`, `no-answer`, ...). The person's next channel is tried now;
when nobody of a level can be reached on any channel, the incident moves on
to the next level at once instead of waiting out the ack timeout.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from pager.core.delivery import other_channels
from pager.core.escalation import Order, level_number
from pager.core.vocabulary import (
    CHANNELS,
    EventKind,
    IncidentState,
    NotificationKind,
    NotificationState,
)
from pager.engine.policy_runtime import PolicyRuntime
from pager.engine.render import render
from pager.policy.model import Policy, PriorityDef
from pager.store import notification_rows
from pager.store.incidents import add_event, firing_count
from pager.store.models import Incident, Notification
from pager.store.notifications import step_pages, waiting_bundle

LIVE = (
    NotificationState.PENDING,
    NotificationState.FAILED_TEMP,
    NotificationState.SENDING,
    NotificationState.SENT,
    NotificationState.DELIVERED,
    NotificationState.UNKNOWN,
)


async def fall_back(
    session: AsyncSession, failed: Notification, policies: PolicyRuntime, now: datetime
) -> None:
    """`failed` cannot reach its person on its channel: try their next one."""
    if failed.kind == NotificationKind.BUNDLE:  # many incidents: the person's current rules apply
        await _bundle_fall_back(session, failed, policies.active.policy, now)
        return
    if failed.incident_id is None or failed.kind != NotificationKind.PAGE:
        return
    # Locked (PostgreSQL), and re-read under the lock: a status callback may race
    # an engine tick or an ack on this incident, and must decide on its current
    # level and state, or it could move on a level that was just entered.
    incident = await session.get(
        Incident, failed.incident_id, with_for_update={"key_share": True}, populate_existing=True
    )
    if incident is None or incident.state != IncidentState.TRIGGERED:
        return
    policy = await policies.snapshot(incident.policy_version_id)
    mine = await step_pages(session, failed.incident_id, failed.step, failed.person_id)
    waiting = [
        r
        for r in mine
        if r.state in (NotificationState.PENDING, NotificationState.FAILED_TEMP)
        and r.id != failed.id
    ]
    if waiting:  # the person's next rule is queued: bring it forward
        first = min(waiting, key=lambda r: r.due_at)
        first.due_at = now
        _fallback_event(session, failed, first.channel, now)
        return
    if any(r.state in LIVE for r in mine if r.id != failed.id):
        return  # another channel may still reach them
    channel = _next_channel(policy, incident.priority, failed, mine)
    if channel is not None:
        session.add(await _copy(session, incident, failed, channel, now))
        _fallback_event(session, failed, channel, now)
        return
    add_event(
        session,
        incident.id,
        now,
        EventKind.UNREACHABLE,
        None,
        person=failed.person_id,
        step=failed.step,
    )
    await _maybe_move_on(session, incident, failed, now)


def _next_channel(
    policy: Policy, priority: str, failed: Notification, mine: list[Notification]
) -> str | None:
    allowed = (policy.priorities.get(priority) or PriorityDef()).channels
    rules = [r.channel for r in policy.person(failed.person_id).notify]
    tried = {r.channel for r in mine}
    found = other_channels(rules, allowed, tried)
    return found[0] if found else None


async def _bundle_fall_back(
    session: AsyncSession, failed: Notification, policy: Policy, now: datetime
) -> None:
    """A bundle that cannot reach its person goes out on their next channel, once
    per channel: merged into the bundle already waiting there, if any. Its text
    is written again when it goes (sender._filled), and the throttle still holds."""
    person = policy.person_by_id(failed.person_id)
    if person is None:
        return
    tried = {failed.channel, *failed.key.split(":fb:")[1:]}
    channels = other_channels([r.channel for r in person.notify], CHANNELS, tried)
    if not channels:
        return
    waiting = await waiting_bundle(session, failed.person_id, channels[0])
    ids = list(failed.bundle_of or [])
    if waiting is not None:
        waiting.bundle_of = sorted({*(waiting.bundle_of or []), *ids})
    else:
        session.add(notification_rows.fallback_bundle(failed, channels[0], ids, now))
    for incident_id in ids:
        add_event(
            session,
            int(incident_id),
            now,
            EventKind.FALLBACK,
            None,
            person=failed.person_id,
            from_channel=failed.channel,
            to_channel=channels[0],
            bundle=True,
        )


async def _copy(
    session: AsyncSession, incident: Incident, failed: Notification, channel: str, now: datetime
) -> Notification:
    firing = await firing_count(session, incident.id)
    order = Order(
        person=failed.person_id,
        channel=channel,  # type: ignore[arg-type]
        due_at=now,
        key=f"{failed.key}:fb:{channel}",
        step=failed.step,
    )
    body = render(incident, order, firing)
    return notification_rows.fallback_page(
        failed, incident.id, incident.priority, channel, body, now
    )


async def _maybe_move_on(
    session: AsyncSession, incident: Incident, failed: Notification, now: datetime
) -> None:
    """Nobody of this level reachable: escalate now (if it is still this level)."""
    if failed.step != incident.step:
        return
    level_rows = await step_pages(session, failed.incident_id, failed.step)
    if any(r.state in LIVE for r in level_rows):
        return
    escalate_early(session, incident, failed, now, EventKind.LEVEL_UNREACHABLE)


def escalate_early(
    session: AsyncSession, incident: Incident, failed: Notification, now: datetime, why: EventKind
) -> None:
    """The next level now instead of at the ack timeout, if `failed` is of the
    level the incident is at and nobody acknowledged meanwhile."""
    if incident.state != IncidentState.TRIGGERED or failed.step != incident.step:
        return
    incident.escalate_at = now
    incident.next_action_at = now
    add_event(
        session,
        incident.id,
        now,
        why,
        None,
        level=level_number(incident.level),
        person=failed.person_id,
    )


def _fallback_event(session: AsyncSession, failed: Notification, to: str, now: datetime) -> None:
    if failed.incident_id is not None:
        add_event(
            session,
            failed.incident_id,
            now,
            EventKind.FALLBACK,
            None,
            person=failed.person_id,
            from_channel=failed.channel,
            to_channel=to,
        )
