"""Drills (`/drills`): start a game day (a synthetic incident that pages for
real, marked DRILL) and see each one's result: running, complete (who
answered, how fast) or unanswered, and whom its pages reached. The same
function as `POST /api/v1/drills` and `pager drill`."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from pager.core.drills import MAX_WAIT, DrillOutcome
from pager.core.vocabulary import IncidentState
from pager.practice.drills import DrillError, start_drill
from pager.services import pager_of
from pager.store import incidents as store
from pager.store import notifications
from pager.web.acting import redirect
from pager.web.auth import Identity, Viewer
from pager.web.guard import Form, form, page
from pager.web.render import render
from pager.web.views import priority_rank

SHOWN = 50


def outcome(drill_outcome: str | None, state: str) -> str:
    return drill_outcome or (DrillOutcome.RUNNING if state != IncidentState.RESOLVED else "ended")


@page
async def drills_page(request: web.Request, identity: Identity, viewer: Viewer) -> web.Response:
    return await render_drills(request, identity, viewer)


async def render_drills(
    request: web.Request, identity: Identity, viewer: Viewer, error: str = "", status: int = 200
) -> web.Response:
    pager = pager_of(request)
    policy = pager.policies.active.policy
    async with pager.db.read() as session:
        found = await store.list_incidents(session, store.IncidentQuery(drill=True), SHOWN)
        reached = await notifications.reached_people(session, [i.id for i in found])
    context = {
        "section": "drills",
        "drills": [(i, outcome(i.drill_outcome, i.state), reached.get(i.id, ())) for i in found],
        "priorities": sorted(policy.priorities, key=priority_rank),
        "escalations": [e.id for e in policy.escalation_policies],
        "rotations": [r.id for r in policy.rotations],
        "default_escalation": policy.default.escalation if policy.default else "",
        "error": error,
        "max_minutes": int(MAX_WAIT.total_seconds() // 60),
    }
    return render(request, "drills.html", context, identity, status=status)


@form
async def start(
    request: web.Request, identity: Identity, viewer: Viewer, data: Form
) -> web.StreamResponse:
    raw = data.get("minutes", "15")
    minutes = int(raw) if raw.isdigit() else 0
    if not 1 <= minutes <= MAX_WAIT.total_seconds() // 60:
        return await render_drills(
            request,
            identity,
            viewer,
            f"Wait between 1 and {int(MAX_WAIT.total_seconds() // 60)} minutes.",
            400,
        )
    try:
        ident = await start_drill(
            pager_of(request),
            data.get("priority") or None,
            data.get("escalation") or None,
            data.get("rotation") or None,
            viewer.person.id,
            timedelta(minutes=minutes),
        )
    except DrillError as exc:
        return await render_drills(request, identity, viewer, str(exc), 400)
    return redirect(request, "/drills", f"Drill #{ident} started: its pages say [DRILL].")
