"""The Now page (`/`): what is burning, who has it, who is on call.

Open incidents highest priority first (then newest), each with its age, state,
level and the people being paged, and the buttons to act; the viewer's own
incidents; each rotation's person on call, until when and who is next. The
page refreshes its incident list live (an SSE `change` event makes htmx fetch
the page again and swap the list in), so nobody has to reload at 3 a.m.
"""

from __future__ import annotations

from aiohttp import web

from pager.core.vocabulary import IncidentState
from pager.oncall import oncall_at
from pager.services import pager_of
from pager.store import incidents as store
from pager.store import notifications
from pager.web.auth import Identity, Viewer
from pager.web.guard import page
from pager.web.render import render
from pager.web.views import Card, card, priority_rank

OPEN_SHOWN = 200  # more open incidents than this: the rest are on the Incidents page


@page
async def now_page(request: web.Request, identity: Identity, viewer: Viewer) -> web.Response:
    return await render_now(request, identity, viewer)


async def render_now(
    request: web.Request,
    identity: Identity,
    viewer: Viewer,
    errors: dict[int, str] | None = None,
    status: int = 200,
) -> web.Response:
    pager = pager_of(request)
    now = pager.clock.now()
    cards = await open_cards(request, viewer)
    oncall = await oncall_at(pager, now)
    mine = [r.rotation for r in oncall.rotations if r.person == viewer.person.id]
    context = {
        "section": "now",
        "cards": cards,
        "waiting": sum(1 for c in cards if c.incident.state == IncidentState.TRIGGERED),
        "mine": [c for c in cards if c.mine],
        "rotations": oncall.rotations,
        "me_on_call": mine,
        "errors": errors or {},
    }
    return render(request, "now.html", context, identity, status=status)


async def open_cards(request: web.Request, viewer: Viewer) -> list[Card]:
    pager = pager_of(request)
    now = pager.clock.now()
    async with pager.db.read() as session:
        found = await store.list_incidents(session, store.IncidentQuery(state="open"), OPEN_SHOWN)
        pages = await notifications.pages_of(session, [i.id for i in found])
    cards = []
    for incident in sorted(found, key=lambda i: (priority_rank(i.priority), -i.id)):
        policy = await pager.policies.snapshot(incident.policy_version_id)
        cards.append(card(incident, policy, pages.get(incident.id, []), viewer.person.id, now))
    return cards
