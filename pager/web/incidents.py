"""The Incidents page: every incident, filtered, a page at a time, with
acknowledge/resolve of several at once."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from aiohttp import web

from pager.services import pager_of
from pager.store import incidents as store
from pager.web.auth import Identity, Viewer
from pager.web.guard import page
from pager.web.render import render
from pager.web.views import card

STATES = ("open", "triggered", "acknowledged", "resolved", "all")
PAGE = 50


@page
async def incidents_page(request: web.Request, identity: Identity, viewer: Viewer) -> web.Response:
    return await render_list(request, identity, viewer, request.rel_url.path_qs)


async def render_list(
    request: web.Request,
    identity: Identity,
    viewer: Viewer,
    here: str,
    errors: dict[int, str] | None = None,
    status: int = 200,
) -> web.Response:
    pager = pager_of(request)
    query = dict(parse_qsl(here.partition("?")[2]))
    state = query.get("state", "open") if query.get("state", "open") in STATES else "open"
    async with pager.db.read() as session:
        found = await store.list_incidents(session, None if state == "all" else state, PAGE)
        pages = await store.pages_of(session, [i.id for i in found])
    now = pager.clock.now()
    cards = []
    for incident in found:
        policy = await pager.policies.snapshot(incident.policy_version_id)
        cards.append(card(incident, policy, pages.get(incident.id, []), viewer.person.id, now))
    context = {
        "section": "incidents",
        "cards": cards,
        "state": state,
        "states": STATES,
        "errors": errors or {},
        "list_here": "/incidents?" + urlencode(query) if query else "/incidents",
    }
    return render(request, "incidents.html", context, identity, status=status)
