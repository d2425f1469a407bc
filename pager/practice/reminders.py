"""Daily reminders, run by APScheduler's cron job (not pages: `info` messages),
once per cluster and day (`daily_reminders`, claimed through pager.engine.jobs).

- An open action item past its due date reminds its owner, once a day.
- A resolved P1 with no review after 7 days reminds its acknowledger (or the
  last level of its escalation policy, the manager), once.
`pager_action_items_open{overdue}` is refreshed on every run.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from pager.core import page_text
from pager.core.vocabulary import EventKind
from pager.engine.jobs import once
from pager.policy.model import Policy
from pager.services import Pager
from pager.store import notification_rows
from pager.store.action_items import open_counts, overdue
from pager.store.incidents import add_event, unreviewed_p1
from pager.store.jobs import forget_runs

REVIEW_AFTER = timedelta(days=7)
KEEP_RUNS = timedelta(days=30)  # the record of job runs (pager.store.jobs) kept this long


async def daily_reminders(pager: Pager) -> int | None:
    """The scheduler's daily run: once per cluster and day (None: another replica's)."""
    now = pager.clock.now()
    due = datetime.combine(now.date(), time(9), UTC)
    queued = await once(pager.db, "daily-reminders", due, now, lambda s: _daily(pager, s, now))
    await _after(pager, queued or 0)
    return queued


async def _daily(pager: Pager, session: AsyncSession, now: datetime) -> int:
    await forget_runs(session, now - KEEP_RUNS)  # long past: no run is due then again
    return await _queue(pager, session, now)


async def run_reminders(pager: Pager) -> int:
    """Send what is due today; returns how many reminders were queued."""
    now = pager.clock.now()
    async with pager.db.write() as session:
        queued = await _queue(pager, session, now)
    await _after(pager, queued)
    return queued


async def _after(pager: Pager, queued: int) -> None:
    await refresh_gauge(pager)
    if queued:
        pager.engine.wake()


async def _queue(pager: Pager, session: AsyncSession, now: datetime) -> int:
    queued = await _item_reminders(pager, session, now)
    return queued + await _review_reminders(pager, session, now)


async def _item_reminders(pager: Pager, session: AsyncSession, now: datetime) -> int:
    day = now.date().isoformat()
    policy = pager.policies.active.policy
    queued = 0
    for item in await overdue(session, now):
        if item.last_reminded_at is not None and item.last_reminded_at.date() == now.date():
            continue
        person = policy.person_by_id(item.owner)
        if person is None:
            continue
        item.last_reminded_at = now
        body = page_text.action_item_reminder(
            item.id, item.incident_id, item.due.date(), item.title
        )
        key = f"reminder:action:{item.id}:{day}"
        session.add(
            notification_rows.info(key, item.incident_id, person.id, person.phone, body, now)
        )
        queued += 1
    return queued


async def _review_reminders(pager: Pager, session: AsyncSession, now: datetime) -> int:
    queued = 0
    for incident in await unreviewed_p1(session, now - REVIEW_AFTER):
        policy = await pager.policies.snapshot(incident.policy_version_id)
        who = incident.acked_by or _manager(policy, incident.escalation_policy)
        person = policy.person_by_id(who) if who else None
        incident.review_reminded_at = now
        if person is None:
            continue
        body = page_text.review_reminder(incident.id, incident.title)
        session.add(
            notification_rows.info(
                f"reminder:review:{incident.id}", incident.id, person.id, person.phone, body, now
            )
        )
        add_event(session, incident.id, now, EventKind.REVIEW_REMINDED, None, person=person.id)
        queued += 1
    return queued


def _manager(policy: Policy, escalation_id: str) -> str | None:
    last = policy.escalation(escalation_id).levels[-1]
    people = [t.partition(":")[2] for t in last.targets if t.startswith("person:")]
    return people[0] if people else None


async def refresh_gauge(pager: Pager) -> None:
    now = pager.clock.now()
    async with pager.db.read() as session:
        late, total = await open_counts(session, now)
    pager.metrics.action_items_open.labels("true").set(late)
    pager.metrics.action_items_open.labels("false").set(total - late)
