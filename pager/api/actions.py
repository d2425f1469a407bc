"""Action items: `GET/POST /api/v1/incidents/{id}/actions`, `GET /api/v1/actions`,
`PATCH /api/v1/actions/{id}` (owner, due, title, state)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from pager.api.incidents import incident_id
from pager.api.params import instant, number, text
from pager.http import ApiError, admin, json_response, read_json
from pager.practice.reminders import refresh_gauge
from pager.services import Pager
from pager.store import actions as store
from pager.store.incidents import IncidentNotFound, add_event, get_for_update
from pager.store.models import ActionItem

STATES = ("open", "done")


def _view(item: ActionItem, pager: Pager) -> dict[str, Any]:
    return {
        "id": item.id,
        "incident_id": item.incident_id,
        "title": item.title,
        "owner": item.owner,
        "due": item.due,
        "state": item.state,
        "overdue": item.state == "open" and item.due < pager.clock.now(),
        "created_at": item.created_at,
        "closed_at": item.closed_at,
    }


def _owner(pager: Pager, body: dict[str, Any]) -> str:
    owner = text(body, "owner") or ""
    if pager.policies.active.policy.person_by_id(owner) is None:
        raise ApiError(400, f"owner {owner!r} is not a person in the policy")
    return owner


async def list_all(request: web.Request) -> web.Response:
    pager = admin(request)
    state = request.query.get("state")
    if state is not None and state not in STATES:
        raise ApiError(400, f"state must be one of {', '.join(STATES)}")
    async with pager.db.read() as session:
        items = await store.list_items(session, state=state, owner=request.query.get("owner"))
    return json_response({"actions": [_view(i, pager) for i in items]})


async def list_for_incident(request: web.Request) -> web.Response:
    pager = admin(request)
    async with pager.db.read() as session:
        items = await store.list_items(session, incident_id=incident_id(request))
    return json_response({"actions": [_view(i, pager) for i in items]})


async def create(request: web.Request) -> web.Response:
    pager = admin(request)
    ident = incident_id(request)
    body = await read_json(request)
    title, owner, due = (
        text(body, "title") or "",
        _owner(pager, body),
        instant(body.get("due"), "due"),
    )
    now = pager.clock.now()
    async with pager.db.write() as session:
        try:
            await get_for_update(session, ident)
        except IncidentNotFound as exc:
            raise ApiError(404, str(exc)) from None
        item = ActionItem(
            incident_id=ident, title=title, owner=owner, due=due, state="open", created_at=now
        )
        session.add(item)
        await session.flush()
        add_event(
            session,
            ident,
            now,
            "action_item_added",
            text(body, "by", required=False),
            action_item=item.id,
            title=title,
            owner=owner,
            due=due.isoformat(),
        )
        view = _view(item, pager)
    await refresh_gauge(pager)
    return json_response(view, status=201)


async def update(request: web.Request) -> web.Response:
    pager = admin(request)
    item_id = number(request.match_info["id"], "action item id")
    body = await read_json(request)
    unknown = set(body) - {"title", "owner", "due", "state", "by"}
    if unknown:
        raise ApiError(400, f"unknown fields: {', '.join(sorted(unknown))}")
    now = pager.clock.now()
    async with pager.db.write() as session:
        item = await store.get_item(session, item_id)
        if item is None:
            raise ApiError(404, f"no action item {item_id}")
        if "title" in body:
            item.title = text(body, "title") or item.title
        if "owner" in body:
            item.owner = _owner(pager, body)
        if "due" in body:
            item.due = instant(body["due"], "due")
        if "state" in body:
            if body["state"] not in STATES:
                raise ApiError(400, f"state must be one of {', '.join(STATES)}")
            item.state = body["state"]
            item.closed_at = now if item.state == "done" else None
        add_event(
            session,
            item.incident_id,
            now,
            "action_item_updated",
            text(body, "by", required=False),
            action_item=item.id,
            changes={k: v for k, v in body.items() if k != "by"},
        )
        view = _view(item, pager)
    await refresh_gauge(pager)
    return json_response(view)
