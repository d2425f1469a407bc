"""Action items (`/actions`): every follow-up from the reviews, with its owner,
deadline, state and source incident; filtered by owner, state and overdue;
closed or reassigned here (added from an incident's review page).

Overdue is an open item past its deadline by the injected clock, the same
test the daily reminder and `pager_action_items_open{overdue}` use.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from pager.practice.reminders import refresh_gauge
from pager.practice.written import change_item
from pager.services import pager_of
from pager.store import action_items as store
from pager.web.acting import redirect
from pager.web.auth import ConsoleError, Identity, Viewer
from pager.web.guard import Form, form, local_path, page
from pager.web.render import render
from pager.web.views import name_of

STATES = ("open", "done", "all")


@dataclass(frozen=True)
class Filters:
    owner: str
    state: str
    overdue: bool

    def link(self) -> dict[str, str]:
        return {"owner": self.owner, "state": self.state, "overdue": "1" if self.overdue else ""}


def read_filters(query: dict[str, str], people: set[str]) -> Filters:
    owner = query.get("owner", "")
    state = query.get("state", "open")
    return Filters(
        owner if owner in people else "",
        state if state in STATES else "open",
        query.get("overdue") == "1",
    )


@page
async def actions_page(request: web.Request, identity: Identity, viewer: Viewer) -> web.Response:
    pager = pager_of(request)
    policy = pager.policies.active.policy
    now = pager.clock.now()
    f = read_filters(dict(request.query), {p.id for p in policy.people})
    async with pager.db.read() as session:
        items = await store.list_items(
            session, state=None if f.state == "all" else f.state, owner=f.owner or None
        )
    late = [i for i in items if i.state == "open" and i.due < now]
    shown = late if f.overdue else list(items)
    context = {
        "section": "actions",
        "items": shown,
        "late": {i.id for i in late},
        "f": f,
        "states": STATES,
        "people": [(p.id, name_of(policy, p.id)) for p in policy.people],
    }
    return render(request, "actions.html", context, identity)


def _item_id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not raw.isdigit():
        raise ConsoleError(404, f"{raw!r} is not an action item number.", "No such action item")
    return int(raw)


@form
async def close(
    request: web.Request, identity: Identity, viewer: Viewer, data: Form
) -> web.StreamResponse:
    ident = _item_id(request)
    item = await change_item(pager_of(request), ident, viewer.person.id, done=True)
    if item is None:
        raise ConsoleError(404, f"There is no action item {ident}.", "No such action item")
    await refresh_gauge(pager_of(request))
    return redirect(
        request, local_path(data.get("back")) or "/actions", f"Closed action item {ident}."
    )


@form
async def reassign(
    request: web.Request, identity: Identity, viewer: Viewer, data: Form
) -> web.StreamResponse:
    pager = pager_of(request)
    ident = _item_id(request)
    owner = data.get("owner", "")
    policy = pager.policies.active.policy
    if policy.person_by_id(owner) is None:
        raise ConsoleError(400, "Choose a person of the policy as the new owner.", "No such person")
    item = await change_item(pager, ident, viewer.person.id, owner=owner)
    if item is None:
        raise ConsoleError(404, f"There is no action item {ident}.", "No such action item")
    back = local_path(data.get("back")) or "/actions"
    return redirect(request, back, f"Action item {ident} is now {name_of(policy, owner)}'s.")
