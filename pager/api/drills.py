"""`GET/POST /api/v1/drills`: starting a drill, and each drill's outcome
(still running, complete: who answered and how fast, or unanswered)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from aiohttp import web
from pydantic import Field

from pager.api.views import drill_outcome
from pager.core.drills import DEFAULT_WAIT, MAX_WAIT, DrillOutcome
from pager.edge import ApiError, admin, json_response
from pager.inputs import Body, Name, PersonRef, body
from pager.practice.drills import DrillError, start_drill
from pager.store import incidents as store
from pager.store import notifications
from pager.store.models import Incident


class DrillIn(Body):
    priority: Name | None = None
    policy: Name | None = None
    rotation: Name | None = None
    by: PersonRef | None = None
    wait: Annotated[float, Field(ge=1, le=MAX_WAIT.total_seconds())] = (
        DEFAULT_WAIT.total_seconds()
    )  # seconds the drill waits for its answer before it ends unanswered


async def create_drill(request: web.Request) -> web.Response:
    pager = admin(request)
    d = await body(request, DrillIn, pager.policies.active.policy)
    wait = timedelta(seconds=d.wait)
    try:
        number = await start_drill(pager, d.priority, d.policy, d.rotation, d.by, wait)
    except DrillError as exc:
        raise ApiError(400, str(exc)) from None
    return json_response({"status": "started", "id": number}, status=201)


async def list_drills(request: web.Request) -> web.Response:
    """Each drill and what happened: still running, complete (who answered, how
    fast) or unanswered, and whom its pages reached."""
    pager = admin(request)
    async with pager.db.read() as session:
        found = await store.list_incidents(session, store.IncidentQuery(drill=True))
        reached = await notifications.reached_people(session, [i.id for i in found])
    return json_response({"drills": [_drill_view(i, reached.get(i.id, ())) for i in found]})


def _drill_view(i: Incident, reached: tuple[str, ...]) -> dict[str, Any]:
    answered = i.acked_at if i.drill_outcome == DrillOutcome.COMPLETE else None
    return {
        "id": i.id,
        "priority": i.priority,
        "state": i.state,
        "outcome": drill_outcome(i),
        "created_at": i.created_at,
        "ends_at": i.drill_ends_at,
        "ended_at": i.resolved_at,
        "acked_at": i.acked_at,
        "acked_by": i.acked_by,
        "time_to_ack_seconds": (answered - i.created_at).total_seconds() if answered else None,
        "reached": list(reached),
    }
