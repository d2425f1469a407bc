"""Status updates from responders, told to the priority's stakeholders.

Stakeholder messages are `info` notifications: they never page, never count
as acknowledgement, and are not throttled into bundles.
"""

from __future__ import annotations

from pager.core import page_text
from pager.core.via import Via
from pager.core.vocabulary import EventKind
from pager.engine.stakeholders import stakeholders, tell_stakeholders
from pager.services import Pager
from pager.store import incidents as store
from pager.store.overrides import in_force


async def post_update(pager: Pager, incident_id: int, by: str | None, text: str, via: Via) -> None:
    now = pager.clock.now()
    async with pager.db.write() as session:
        incident = await store.get_for_update(session, incident_id)
        policy = await pager.policies.snapshot(incident.policy_version_id)
        count = await store.count_events(session, incident_id, EventKind.STATUS_UPDATE)
        store.add_event(session, incident_id, now, EventKind.STATUS_UPDATE, by, text=text, via=via)
        body = page_text.status_update(incident.id, incident.priority, text)
        people = stakeholders(policy, incident.priority, now, await in_force(session, now))
        tell_stakeholders(session, policy, incident, now, f"update{count + 1}", body, people)
    pager.engine.wake()
