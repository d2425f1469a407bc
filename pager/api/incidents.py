"""Admin API for incidents: list, show, acknowledge, resolve, escalate."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiohttp import web

from pager.actions import Action, act
from pager.api.params import instant, number, via_of
from pager.api.views import incident_detail, incident_summary
from pager.http import ApiError, admin, json_response, read_json
from pager.store import incidents as store

STATES = ("open", "triggered", "acknowledged", "resolved")
PAGE, MAX_PAGE = 100, 500  # incidents per page: the default, and the most one asks for
T = TypeVar("T")


def incident_id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not raw.isdigit():
        raise ApiError(400, f"incident id {raw!r} is not a number")
    return int(raw)


async def list_incidents(request: web.Request) -> web.Response:
    """Newest first, `limit` at a time; `next` is the link to the following page."""
    pager = admin(request)
    where, limit = _query(request)
    async with pager.db.read() as session:
        found = await store.list_incidents(session, where, limit + 1)
    page = found[:limit]
    more = len(found) > limit
    return json_response(
        {
            "incidents": [incident_summary(i) for i in page],
            "next": _next_link(request, page[-1].id) if more else None,
        }
    )


def _query(request: web.Request) -> tuple[store.IncidentQuery, int]:
    q = request.query
    state = q.get("state")
    if state is not None and state not in STATES:
        raise ApiError(400, f"state must be one of {', '.join(STATES)}")
    limit = number(q.get("limit", str(PAGE)), "limit")
    if not 1 <= limit <= MAX_PAGE:
        raise ApiError(400, f"limit must be from 1 to {MAX_PAGE}")
    priorities = tuple(p for value in q.getall("priority", []) for p in value.split(",") if p)
    where = store.IncidentQuery(
        state=state,
        priorities=priorities,
        since=instant(q["since"], "since") if "since" in q else None,
        until=instant(q["until"], "until") if "until" in q else None,
        before=number(q["before"], "before") if "before" in q else None,
        text=q.get("q") or None,
    )
    return where, limit


def _next_link(request: web.Request, last_id: int) -> str:
    query = [(k, v) for k, v in request.query.items() if k != "before"]
    return str(request.rel_url.with_query([*query, ("before", str(last_id))]))


async def get_incident(request: web.Request) -> web.Response:
    pager = admin(request)
    ident = incident_id(request)
    async with pager.db.read() as session:
        record = await found(store.incident_record(session, ident))
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
        ident = incident_id(request)
        body = await read_json(request)
        by = body.get("by")
        if by is not None and (not isinstance(by, str) or not by):
            raise ApiError(400, "by must be a person id")
        try:
            changed = await act(pager, ident, action, by, via_of(request))
        except store.IncidentNotFound as exc:
            raise ApiError(404, str(exc)) from None
        if not changed:
            raise ApiError(409, f"incident {ident} cannot be {past} in its current state")
        return json_response({"status": past, "id": ident})

    return handler


acknowledge = _action_handler(store.acknowledge, "acknowledged")
resolve = _action_handler(store.resolve, "resolved")
escalate = _action_handler(store.escalate, "escalated")
