"""Stakeholders hear how an incident is going, without interrupting responders.

After each engine step the incident's state and priority are compared with
what its stakeholders were last told; a change (opened, acknowledged, upgraded,
re-opened, resolved) becomes one `info` SMS each. Info messages never page,
never acknowledge and are not throttled. Suppressed incidents tell nobody.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from pager.core import page_text
from pager.core.oncall import Overrides, resolve_targets
from pager.core.vocabulary import EventKind, IncidentState
from pager.policy.model import Policy, PriorityDef
from pager.store import notification_rows
from pager.store.incidents import add_event, count_events
from pager.store.models import Incident


def _change(before: str | None, incident: Incident) -> str:
    if before is None:
        return "opened"
    if incident.state == IncidentState.RESOLVED:
        return IncidentState.RESOLVED
    if incident.state == IncidentState.ACKNOWLEDGED:
        return IncidentState.ACKNOWLEDGED
    if before.split(":")[1] != incident.priority:
        return f"upgraded to {incident.priority}"
    return "paging again"


Told = Callable[[AsyncSession, int], Awaitable[int]]  # notices an incident had so far


async def _told_so_far(session: AsyncSession, incident_id: int) -> int:
    return await count_events(session, incident_id, EventKind.STAKEHOLDERS_TOLD)


async def announce(
    session: AsyncSession,
    policy: Policy,
    incident: Incident,
    now: datetime,
    overrides: Overrides,
    notices: Told = _told_so_far,
) -> None:
    """`notices`: how many the incident had (the escalator reads them for a whole
    batch at once); each notice's key carries its number. A stakeholder rotation
    is whoever is on call in it now, its overrides as they page."""
    told = f"{incident.state}:{incident.priority}"
    if incident.suppressed or incident.stakeholders_told == told:
        return
    what = _change(incident.stakeholders_told, incident)
    incident.stakeholders_told = told
    people = stakeholders(policy, incident.priority, now, overrides)
    if not people:
        return
    body = page_text.stakeholder_notice(
        incident.id, incident.priority, what, incident.title, drill=incident.drill
    )
    number = await notices(session, incident.id)
    tell_stakeholders(session, policy, incident, now, f"{number + 1}", body, people)
    add_event(
        session, incident.id, now, EventKind.STAKEHOLDERS_TOLD, None, what=what, people=list(people)
    )


def stakeholders(
    policy: Policy, priority: str, at: datetime, overrides: Overrides
) -> tuple[str, ...]:
    targets = (policy.priorities.get(priority) or PriorityDef()).stakeholders
    return tuple(resolve_targets(policy, targets, at, overrides).people) if targets else ()


def tell_stakeholders(
    session: AsyncSession,
    policy: Policy,
    incident: Incident,
    now: datetime,
    what: str,
    body: str,
    people: Sequence[str],
) -> None:
    """One info message to each of `people` (the priority's `stakeholders`)."""
    for person_id in people:
        person = policy.person(person_id)
        key = f"{incident.id}:stakeholder:{what}:{person_id}"
        session.add(
            notification_rows.info(
                key, incident.id, person_id, person.phone, body, now, priority=incident.priority
            )
        )
