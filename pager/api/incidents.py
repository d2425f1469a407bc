"""Admin API for incidents: list, show, acknowledge, resolve, escalate."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Literal, TypeVar

from aiohttp import web
from pydantic import Field

from pager.actions import Action, act
from pager.api.views import incident_detail, incident_summary
from pager.edge import ApiError, admin, json_response
from pager.inputs import Body, Id, Instant, Name, PersonRef, Query, Text, body, ident, parse, via_of
from pager.store import incidents as store

PAGE, MAX_PAGE = 100, 500  # incidents per page: the default, and the most one asks for
T = TypeVar("T")


class ListQuery(Query):
    state: Literal["open", "triggered", "acknowledged", "resolved"] | None = None
    limit: Annotated[Id, Field(ge=1, le=MAX_PAGE)] = PAGE
    priority: tuple[Name, ...] = ()  # each may be a comma-separated list
    since: Instant | None = None
    until: Instant | None = None
    before: Id | None = None  # the cursor: ids below this one
    q: Text | None = None  # words the incident's title or summary holds


class ActIn(Body):
    by: PersonRef | None = None


def incident_id(request: web.Request) -> int:
    return ident(request.match_info["id"], "incident id")


async def list_incidents(request: web.Request) -> web.Response:
    """Newest first, `limit` at a time; `next` is the link to the following page."""
    pager = admin(request)
    query = parse(ListQuery, {**request.query, "priority": request.query.getall("priority", [])})
    where = store.IncidentQuery(
        state=query.state,
        priorities=tuple(p for value in query.priority for p in value.split(",") if p),
        since=query.since,
        until=query.until,
        before=query.before,
        text=query.q or None,
    )
    async with pager.db.read() as session:
        found = await store.list_incidents(session, where, query.limit + 1)
    page = found[: query.limit]
    more = len(found) > query.limit
    return json_response(
        {
            "incidents": [incident_summary(i) for i in page],
            "next": _next_link(request, page[-1].id) if more else None,
        }
    )


def _next_link(request: web.Request, last_id: int) -> str:
    query = [(k, v) for k, v in request.query.items() if k != "before"]
    return str(request.rel_url.with_query([*query, ("before", str(last_id))]))


async def get_incident(request: web.Request) -> web.Response:
    pager = admin(request)
    number = incident_id(request)
    async with pager.db.read() as session:
        record = await found(store.incident_record(session, number))
    return json_response(incident_detail(record.incident, record.events, record.notifications))


async def found(lookup: Awaitable[T]) -> T:
    """The lookup's result, or 404 when the incident does not exist."""
    try:
        return await lookup
    except store.IncidentNotFound as exc:
        raise ApiError(404, str(exc)) from None


def _action_handler(action: Action, past: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        pager = admin(request)
        number = incident_id(request)
        given = await body(request, ActIn, pager.policies.active.policy)
        try:
            changed = await act(pager, number, action, given.by, via_of(request))
        except store.IncidentNotFound as exc:
            raise ApiError(404, str(exc)) from None
        if not changed:
            raise ApiError(409, f"incident {number} cannot be {past} in its current state")
        return json_response({"status": past, "id": number})

    return handler


acknowledge = _action_handler(store.acknowledge, "acknowledged")
resolve = _action_handler(store.resolve, "resolved")
escalate = _action_handler(store.escalate, "escalated")
