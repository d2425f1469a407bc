"""Who may act on an incident from a phone: the people it paged, and whoever is
on call for its escalation policy now.

A number in the policy is not enough: a stakeholder told "no action needed",
or someone never paged for it, must not acknowledge or resolve an incident by
replying "42A". They get a short refusal, and it is counted
(`pager_inbound_refused_total{channel}`). The admin API is not limited this
way: its token stands for an operator, who may act for anyone (`by`).
"""

from __future__ import annotations

from pager.core.oncall import escalation_people
from pager.services import Pager
from pager.store.models import Incident
from pager.store.notifications import was_paged
from pager.store.overrides import by_rotation, list_overrides


async def may_act(pager: Pager, person: str, incident_id: int) -> bool:
    """True for a responder of the incident, and for an incident that does not
    exist (so the caller can say "no incident #N" rather than refuse)."""
    now = pager.clock.now()
    async with pager.db.read() as session:
        incident = await session.get(Incident, incident_id)
        if incident is None or await was_paged(session, incident_id, person):
            return True
        overrides = by_rotation(await list_overrides(session, ending_after=now))
    policy = await pager.policies.snapshot(incident.policy_version_id)
    return person in escalation_people(policy, incident.escalation_policy, now, overrides)
