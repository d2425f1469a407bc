"""Maintenance windows (`/api/v1/maintenance`): list, create, and end early or delete.

Alerts matching an active window open incidents that are recorded, not paged
(see pager.store.maintenance). `DELETE /api/v1/maintenance/{id}` deletes a
window not started yet and ends a running one now: the incidents it held back
page at once, and their timelines say so.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import field_validator

from pager.core.matchers import MatcherError, parse_matcher
from pager.edge import ApiError, admin, json_response
from pager.inputs import Body, Instant, PersonRef, Text, body, ident
from pager.practice.maintenance import create_window, end_window
from pager.store import maintenance
from pager.store.maintenance import Ending
from pager.store.models import MaintenanceWindow


class MaintenanceIn(Body):
    matchers: list[Text]
    start: Instant | None = None
    end: Instant
    reason: Text = ""
    by: PersonRef | None = None

    @field_validator("matchers")
    @classmethod
    def _matchers(cls, matchers: list[str]) -> list[str]:
        if not matchers:
            raise ValueError("must be a non-empty list of matcher strings")
        for matcher in matchers:
            try:
                parse_matcher(matcher)
            except MatcherError as exc:
                raise ValueError(str(exc)) from None
        return matchers


class EndIn(Body):
    by: PersonRef | None = None


def _window_view(w: MaintenanceWindow) -> dict[str, Any]:
    return {
        "id": w.id,
        "matchers": w.matchers,
        "start": w.start,
        "end": w.end,
        "reason": w.reason,
        "created_by": w.created_by,
    }


async def list_maintenance(request: web.Request) -> web.Response:
    pager = admin(request)
    async with pager.db.read() as session:
        found = await maintenance.windows(session)
    now = pager.clock.now()
    return json_response(
        {"maintenance": [{**_window_view(w), "active": w.start <= now < w.end} for w in found]}
    )


async def create_maintenance(request: web.Request) -> web.Response:
    pager = admin(request)
    given = await body(request, MaintenanceIn, pager.policies.active.policy)
    start = given.start or pager.clock.now()
    if given.end <= start:
        raise ApiError(400, "end must be after start")
    try:
        window = await create_window(
            pager, given.matchers, start, given.end, given.reason, given.by
        )
    except MatcherError as exc:
        raise ApiError(400, f"matchers: {exc}") from None
    view = _window_view(window)
    return json_response(view, status=201)


async def end_maintenance(request: web.Request) -> web.Response:
    pager = admin(request)
    window_id = ident(request.match_info["id"], "maintenance window id")
    by = (await body(request, EndIn, pager.policies.active.policy)).by
    done = await end_window(pager, window_id, by)
    if done is None:
        raise ApiError(404, f"no maintenance window {window_id}")
    if done.ending is Ending.OVER:
        raise ApiError(
            409,
            f"maintenance window {window_id} ended already, at {done.window.end.isoformat()}",
        )
    view = _window_view(done.window)
    return json_response({**view, "status": done.ending, "released": list(done.released)})
