"""Status updates from responders, told to the priority's stakeholders.

Stakeholder messages are `info` notifications: they never page, never count
as acknowledgement, and are not throttled into bundles.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from pager.core import page_text
from pager.core.oncall import resolve_targets
from pager.policy.model import Policy, PriorityDef
from pager.services import Pager
from pager.store import incidents as store
from pager.store.models import Incident, Notification


async def post_update(pager: Pager, incident_id: int, by: str | None, text: str, via: str) -> None:
    now = pager.clock.now()
    async with pager.db.write() as session:
        incident = await store.get_for_update(session, incident_id)
        policy = await pager.policies.snapshot(incident.policy_version_id)
        count = await store.count_events(session, incident_id, "status_update")
        store.add_event(session, incident_id, now, "status_update", by, text=text, via=via)
        body = page_text.to_gsm7(f"[{incident.priority}] #{incident.id} update: {text}")
        tell_stakeholders(session, policy, incident, now, f"update{count + 1}", body)
    pager.engine.wake()


def stakeholders(policy: Policy, priority: str, at: datetime) -> tuple[str, ...]:
    targets = (policy.priorities.get(priority) or PriorityDef()).stakeholders
    return tuple(resolve_targets(policy, targets, at).people) if targets else ()


def tell_stakeholders(
    session: AsyncSession, policy: Policy, incident: Incident, now: datetime, what: str, body: str
) -> None:
    for person_id in stakeholders(policy, incident.priority, now):
        person = policy.person(person_id)
        session.add(
            Notification(
                key=f"{incident.id}:stakeholder:{what}:{person_id}",
                incident_id=incident.id,
                person_id=person_id,
                phone=person.phone,
                channel="sms",
                kind="info",
                priority=incident.priority,
                step=0,
                body=body,
                state="pending",
                due_at=now,
                attempts=0,
                created_at=now,
            )
        )
