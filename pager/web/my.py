"""My on-call (`/my`): the viewer's shifts in every rotation, the weeks ahead.

Each shift with a form to give it away (an override: someone covers for me),
the shifts of the viewer's rotation mates that they could take (an override:
I cover for them), and the viewer's calendar feeds. Shifts are the schedule's
blocks (pager.core.schedule), so this page, the Schedule page, the calendar
feeds and `pager oncall` say the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from aiohttp import web

from pager.core.schedule import Block, blocks
from pager.oncall import database_overrides
from pager.services import pager_of
from pager.web.auth import Identity, Viewer
from pager.web.calendar import feed_links
from pager.web.guard import page
from pager.web.render import render
from pager.web.schedule import form_problem
from pager.web.views import name_of

AHEAD = timedelta(days=28)
TAKEABLE = 20  # others' shifts offered at most


@dataclass(frozen=True)
class Shift:
    rotation: str
    timezone: str
    block: Block
    covers: str  # "" or whom the viewer covers for (an override)


@page
async def my_page(request: web.Request, identity: Identity, viewer: Viewer) -> web.Response:
    return await render_my(request, identity, viewer)


async def render_my(
    request: web.Request,
    identity: Identity,
    viewer: Viewer,
    problem: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    pager = pager_of(request)
    policy = pager.policies.active.policy
    now = pager.clock.now()
    me = viewer.person.id
    overrides = await database_overrides(pager)
    mine: list[Shift] = []
    others: list[Shift] = []
    for rotation in policy.rotations:
        for b in blocks(rotation, now, now + AHEAD, overrides.get(rotation.id, ())):
            covers = name_of(policy, b.scheduled) if b.override and b.scheduled else ""
            shift = Shift(rotation.id, rotation.timezone, b, covers)
            if b.person == me:
                mine.append(shift)
            elif me in rotation.members and b.person and b.override is None and b.end > now:
                others.append(shift)
    context = {
        "section": "my",
        "shifts": sorted(mine, key=lambda s: s.block.start),
        "takeable": sorted(others, key=lambda s: s.block.start)[:TAKEABLE],
        "people": [(p.id, name_of(policy, p.id)) for p in policy.people if p.id != me],
        "feeds": await feed_links(request, viewer),
        "problem": form_problem(problem),
        "ahead_days": AHEAD.days,
    }
    return render(request, "my.html", context, identity, status=status)
