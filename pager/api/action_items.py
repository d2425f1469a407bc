"""Action items: `GET/POST /api/v1/incidents/{id}/actions`, `GET /api/v1/actions`,
`PATCH /api/v1/actions/{id}` (owner, due, title, state)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from aiohttp import web

from pager.api.incidents import incident_id
from pager.core.vocabulary import EventKind
from pager.edge import ApiError, admin, json_response
from pager.inputs import Body, Instant, Name, PersonRef, Query, Required, body, ident, parse
from pager.practice.reminders import refresh_gauge
from pager.practice.written import add_action_item
from pager.services import Pager
from pager.store import action_items as store
from pager.store.incidents import IncidentNotFound, add_event
from pager.store.models import ActionItem

State = Literal["open", "done"]


class ListQuery(Query):
    state: State | None = None
    owner: Name | None = None


class ActionIn(Body):
    title: Required
    owner: PersonRef
    due: Instant
    by: PersonRef | None = None


class ActionPatch(Body):
    title: Required | None = None
    owner: PersonRef | None = None
    due: Instant | None = None
    state: State | None = None
    by: PersonRef | None = None


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


async def list_all(request: web.Request) -> web.Response:
    pager = admin(request)
    query = parse(ListQuery, request.query)
    async with pager.db.read() as session:
        items = await store.list_items(session, state=query.state, owner=query.owner)
    return json_response({"actions": [_view(i, pager) for i in items]})


async def list_for_incident(request: web.Request) -> web.Response:
    pager = admin(request)
    async with pager.db.read() as session:
        items = await store.list_items(session, incident_id=incident_id(request))
    return json_response({"actions": [_view(i, pager) for i in items]})


async def create(request: web.Request) -> web.Response:
    pager = admin(request)
    number = incident_id(request)
    new = await body(request, ActionIn, pager.policies.active.policy)
    try:
        item = await add_action_item(pager, number, new.title, new.owner, new.due, new.by)
    except IncidentNotFound as exc:
        raise ApiError(404, str(exc)) from None
    view = _view(item, pager)
    await refresh_gauge(pager)
    return json_response(view, status=201)


async def update(request: web.Request) -> web.Response:
    pager = admin(request)
    item_id = ident(request.match_info["id"], "action item id")
    patch = await body(request, ActionPatch, pager.policies.active.policy)
    changes = patch.model_dump(mode="json", exclude_unset=True, exclude={"by"})
    now = pager.clock.now()
    async with pager.db.write() as session:
        item = await store.get_item(session, item_id)
        if item is None:
            raise ApiError(404, f"no action item {item_id}")
        _apply(item, patch, now)
        add_event(
            session,
            item.incident_id,
            now,
            EventKind.ACTION_ITEM_UPDATED,
            patch.by,
            action_item=item.id,
            changes=changes,
        )
        view = _view(item, pager)
    await refresh_gauge(pager)
    return json_response(view)


def _apply(item: ActionItem, patch: ActionPatch, now: datetime) -> None:
    """The fields a PATCH gave; a field sent as null keeps its value."""
    item.title = patch.title or item.title
    item.owner = patch.owner or item.owner
    item.due = patch.due or item.due
    if patch.state is not None:
        item.state = patch.state
        item.closed_at = now if patch.state == "done" else None
