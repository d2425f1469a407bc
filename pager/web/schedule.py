"""The Schedule page (`/schedule/{rotation}`): a week or a month of a rotation.

Shown in the rotation's time zone, or the viewer's (`zone=mine`): each day
(week view) or week (month view) a strip of blocks, one per person's stretch,
overrides apart (hatched, another colour and the ⇄ sign, so colour is never
the only difference), the day of a daylight-saving change drawn at its real
length (23 or 25 hours), today and now marked. Under the strips every block
as a row (what a screen reader and a phone read), each with a form to have
someone cover it; a form for any range; the rotation's overrides with who
made them, a Remove button each, and the recent changes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

from aiohttp import web

from pager.core.schedule import blocks
from pager.policy.model import Rotation
from pager.services import pager_of
from pager.store import audit
from pager.store import overrides as store
from pager.web.auth import ConsoleError, Identity, Viewer
from pager.web.calendar import feed_links
from pager.web.guard import page
from pager.web.render import render
from pager.web.schedule_view import colours, label, monday_of, month, week
from pager.web.views import name_of

MODES = ("week", "month")
FIELDS = ("error", "person", "replaces", "start", "end", "note", "form")


def form_problem(given: dict[str, str] | None) -> dict[str, str]:
    """A refused override form's reason and values, every field present."""
    return {field: "" for field in FIELDS} | (given or {})


@dataclass(frozen=True)
class View:
    rotation: str
    mode: str  # week | month
    first: date  # the first day shown (week), a day of the month shown (month)
    mine: bool  # the viewer's zone rather than the rotation's
    zone: str

    def link(self, **changes: Any) -> str:
        shown = replace(self, **changes)
        query = {"view": shown.mode, "start": shown.first.isoformat()}
        if shown.mine:
            query["zone"] = "mine"
        return f"/schedule/{shown.rotation}?{urlencode(query)}"

    @property
    def step(self) -> tuple[date, date]:
        """The first day of the previous and of the next page."""
        if self.mode == "week":
            return self.first - timedelta(days=7), self.first + timedelta(days=7)
        start = self.first.replace(day=1)
        return (start - timedelta(days=1)).replace(day=1), (start + timedelta(days=32)).replace(
            day=1
        )


def read_view(query: str, rotation: Rotation, viewer_zone: str, now: datetime) -> View:
    values = dict(parse_qsl(query))
    mine = values.get("zone") == "mine" and viewer_zone != rotation.timezone
    zone = viewer_zone if mine else rotation.timezone
    mode = values.get("view", "week")
    mode = mode if mode in MODES else "week"
    today = now.astimezone(ZoneInfo(zone)).date()
    try:
        first = date.fromisoformat(values.get("start", ""))
    except ValueError:
        first = today
    first = monday_of(first) if mode == "week" else first.replace(day=1)
    return View(rotation.id, mode, first, mine, zone)


def rotation_of(request: web.Request, ident: str | None = None) -> Rotation:
    policy = pager_of(request).policies.active.policy
    wanted = ident or request.match_info["rotation"]
    for rotation in policy.rotations:
        if rotation.id == wanted:
            return rotation
    raise ConsoleError(404, f"There is no rotation {wanted!r} in the policy.", "No such rotation")


@page
async def schedules(request: web.Request, identity: Identity, viewer: Viewer) -> web.Response:
    """`/schedule`: the first rotation the viewer is a member of, else the first."""
    rotations = pager_of(request).policies.active.policy.rotations
    if not rotations:
        raise ConsoleError(404, "The policy has no rotations yet.", "No rotations")
    mine = [r for r in rotations if viewer.person.id in r.members]
    target = (mine or list(rotations))[0].id
    raise web.HTTPSeeOther(pager_of(request).settings.url_prefix + f"/schedule/{target}")


@page
async def schedule_page(request: web.Request, identity: Identity, viewer: Viewer) -> web.Response:
    return await render_schedule(request, identity, viewer, request.rel_url.path_qs)


async def render_schedule(
    request: web.Request,
    identity: Identity,
    viewer: Viewer,
    here: str,
    problem: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    pager = pager_of(request)
    path, _, query = here.partition("?")
    rotation = rotation_of(request, path.rsplit("/", 1)[-1])
    now = pager.clock.now()
    view = read_view(query, rotation, viewer.person.timezone, now)
    policy = pager.policies.active.policy

    def names(person: str | None) -> str:
        return name_of(policy, person)

    async with pager.db.read() as session:
        rows = await store.list_overrides(session, rotation=rotation.id)
        changes = await audit.entries(session, f"rotation:{rotation.id}")
    mine = [store.as_policy(r) for r in sorted(rows, key=lambda r: r.id)]
    draw = week if view.mode == "week" else month
    palette = colours(rotation.members)
    strips = draw([], view.first, view.zone, now, names, palette)
    start, end = strips[0].start, strips[-1].end
    found = blocks(rotation, start, end, mine)
    strips = draw(found, view.first, view.zone, now, names, palette)
    earlier, later = view.step
    context = {
        "section": "schedule",
        "rotation": rotation,
        "rotations": [r.id for r in policy.rotations],
        "view": view,
        "strips": strips,
        "listed": [(b, label(b, names)) for b in found],
        "overrides": [r for r in rows if r.end > now],
        "changes": changes,
        "people": [(p.id, names(p.id)) for p in policy.people],
        "earlier": view.link(first=earlier),
        "later": view.link(first=later),
        "today_link": view.link(first=now.astimezone(ZoneInfo(view.zone)).date()),
        "feeds": await feed_links(request, viewer),
        "problem": form_problem(problem),
    }
    return render(request, "schedule.html", context, identity, status=status)
