"""Maintenance windows (`/maintenance`): the running ones, the ones ahead, the
recent past; a form to make one (now or later), and End now (a window not
started yet is deleted). The same functions as `/api/v1/maintenance`."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from pager.core.matchers import MatcherError
from pager.practice.maintenance import create_window, end_window
from pager.services import pager_of
from pager.store import maintenance as store
from pager.store.maintenance import Ending
from pager.web.acting import redirect
from pager.web.auth import ConsoleError, Identity, Viewer
from pager.web.forms import Refused, moment
from pager.web.guard import Form, form, page
from pager.web.render import render

RECENT = timedelta(days=7)
FIELDS = ("matchers", "start", "end", "reason")


@page
async def maintenance_page(
    request: web.Request, identity: Identity, viewer: Viewer
) -> web.Response:
    return await render_maintenance(request, identity, viewer)


async def render_maintenance(
    request: web.Request,
    identity: Identity,
    viewer: Viewer,
    problem: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    pager = pager_of(request)
    now = pager.clock.now()
    async with pager.db.read() as session:
        windows = await store.windows(session)
    context = {
        "section": "maintenance",
        "running": [w for w in windows if w.start <= now < w.end],
        "ahead": [w for w in windows if w.start > now],
        "past": [w for w in windows if now - RECENT <= w.end <= now][::-1],
        "problem": {k: "" for k in (*FIELDS, "error")} | (problem or {}),
    }
    return render(request, "maintenance.html", context, identity, status=status)


@form
async def create(
    request: web.Request, identity: Identity, viewer: Viewer, data: Form
) -> web.StreamResponse:
    pager = pager_of(request)
    zone = viewer.person.timezone
    matchers = [line.strip() for line in data.get("matchers", "").splitlines() if line.strip()]
    try:
        if not matchers:
            raise Refused('Give at least one matcher, like service="api".')
        start = moment(data.get("start"), zone, "start") if data.get("start") else pager.clock.now()
        end = moment(data.get("end"), zone, "end")
        if end <= start:
            raise Refused("The end must be after the start.")
        reason = (data.get("reason") or "").strip()[:1000]
        window = await create_window(pager, matchers, start, end, reason, viewer.person.id)
    except (Refused, MatcherError) as exc:
        problem = {k: data.get(k, "") for k in FIELDS} | {"error": str(exc)}
        return await render_maintenance(request, identity, viewer, problem, 400)
    when = "now" if window.start <= pager.clock.now() else "later"
    return redirect(request, "/maintenance", f"Maintenance window {window.id} made ({when}).")


@form
async def end(
    request: web.Request, identity: Identity, viewer: Viewer, data: Form
) -> web.StreamResponse:
    raw = request.match_info["id"]
    done = await end_window(pager_of(request), int(raw) if raw.isdigit() else 0, viewer.person.id)
    if done is None:
        raise ConsoleError(404, f"There is no maintenance window {raw}.", "No such window")
    if done.ending is Ending.OVER:
        raise ConsoleError(409, f"Maintenance window {raw} is over already.", "Already over")
    if done.ending is Ending.DELETED:
        return redirect(request, "/maintenance", f"Maintenance window {raw} deleted (not started).")
    released = f"; {len(done.released)} held incident(s) page now" if done.released else ""
    return redirect(request, "/maintenance", f"Maintenance window {raw} ended{released}.")
