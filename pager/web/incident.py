"""The Incident page: everything about one incident, live, with its actions.

Title, priority and what it promises, alerts (labels, annotations, runbook
links), the timeline, every notification with its delivery state, who
acknowledged and when, the buttons, the status-update form and the review.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from pager.core.vocabulary import NotificationKind
from pager.services import pager_of
from pager.store import incidents as store
from pager.store.models import Notification
from pager.web.auth import ConsoleError, Identity, Viewer
from pager.web.fmt import duration
from pager.web.guard import page
from pager.web.render import render
from pager.web.timeline import describe
from pager.web.views import delivery, expectation, name_of, paged_people, status_line


@dataclass(frozen=True)
class Line:
    at: object
    text: str


@dataclass(frozen=True)
class Sent:
    row: Notification
    state: str


def incident_id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not raw.isdigit():
        raise ConsoleError(404, f"{raw!r} is not an incident number.", "No such incident")
    return int(raw)


async def load(request: web.Request, ident: int) -> store.IncidentRecord:
    async with pager_of(request).db.read() as session:
        try:
            return await store.incident_record(session, ident)
        except store.IncidentNotFound:
            raise ConsoleError(404, f"There is no incident #{ident}.", "No such incident") from None


@page
async def incident_page(request: web.Request, identity: Identity, viewer: Viewer) -> web.Response:
    return await render_incident(request, identity, viewer, incident_id(request))


async def render_incident(
    request: web.Request,
    identity: Identity,
    viewer: Viewer,
    ident: int,
    errors: dict[int, str] | None = None,
    status: int = 200,
    update: tuple[str, str] | None = None,  # (text, error) of a refused status update
) -> web.Response:
    pager = pager_of(request)
    record = await load(request, ident)
    incident, now = record.incident, pager.clock.now()
    policy = await pager.policies.snapshot(incident.policy_version_id)
    pages = [n for n in record.notifications if n.kind == NotificationKind.PAGE]
    prio = policy.priorities.get(incident.priority)
    context = {
        "i": incident,
        "age": duration(now - incident.created_at),
        "status": status_line(incident, policy, now, paged_people(policy, pages)),
        "expectation": expectation(incident, policy),
        "alerts": incident.alerts,
        "timeline": [Line(e.at, describe(e, lambda p: name_of(policy, p))) for e in record.events],
        "notifications": [Sent(n, delivery(n)) for n in record.notifications],
        "stakeholders": [
            name_of(policy, t.partition(":")[2]) for t in (prio.stakeholders if prio else ())
        ],
        "errors": errors or {},
        "update_text": update[0] if update else "",
        "update_error": update[1] if update else "",
    }
    return render(request, "incident.html", context, identity, status=status)
