"""Maintenance windows (`/api/v1/maintenance`): list, create, and end early or delete.

Alerts matching an active window open incidents that are recorded, not paged
(see pager.store.maintenance). `DELETE /api/v1/maintenance/{id}` deletes a
window not started yet and ends a running one now: the incidents it held back
page at once, and their timelines say so.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from pager.api.params import instant, number, text
from pager.core.matchers import MatcherError, parse_matcher
from pager.http import ApiError, admin, json_response, read_json
from pager.store import maintenance
from pager.store.maintenance import Ending
from pager.store.models import MaintenanceWindow


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
    body = await read_json(request)
    matchers = body.get("matchers")
    if (
        not isinstance(matchers, list)
        or not matchers
        or not all(isinstance(m, str) for m in matchers)
    ):
        raise ApiError(400, "matchers must be a non-empty list of matcher strings")
    for matcher in matchers:
        try:
            parse_matcher(matcher)
        except MatcherError as exc:
            raise ApiError(400, f"matchers: {exc}") from None
    start = instant(body.get("start"), "start") if "start" in body else pager.clock.now()
    end = instant(body.get("end"), "end")
    if end <= start:
        raise ApiError(400, "end must be after start")
    window = MaintenanceWindow(
        matchers=matchers,
        start=start,
        end=end,
        reason=str(body.get("reason") or ""),
        created_at=pager.clock.now(),
        created_by=body.get("by"),
    )
    async with pager.db.write() as session:
        session.add(window)
        await session.flush()
        view = _window_view(window)
    pager.maintenance.invalidate()
    return json_response(view, status=201)


async def end_maintenance(request: web.Request) -> web.Response:
    pager = admin(request)
    window_id = number(request.match_info["id"], "maintenance window id")
    by = text(await read_json(request), "by", required=False)
    now = pager.clock.now()
    async with pager.db.write() as session:
        done = await maintenance.end_window(session, window_id, now, by)
        if done is None:
            raise ApiError(404, f"no maintenance window {window_id}")
        if done.ending is Ending.OVER:
            raise ApiError(
                409,
                f"maintenance window {window_id} ended already, at {done.window.end.isoformat()}",
            )
        view = _window_view(done.window)
    pager.maintenance.invalidate()
    if done.released:
        pager.engine.wake()
    return json_response({**view, "status": done.ending, "released": list(done.released)})
