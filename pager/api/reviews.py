"""`GET/POST /api/v1/incidents/{id}/review`: the post-incident review as
Markdown, and marking it held (which stops its reminder)."""

from __future__ import annotations

from aiohttp import web

from pager.api.incidents import found, incident_id
from pager.edge import ApiError, admin, json_response
from pager.inputs import Body, PersonRef, Text, body
from pager.practice.review import render_review
from pager.practice.written import mark_held
from pager.store import action_items as action_store
from pager.store import incidents as store


class ReviewIn(Body):
    notes: Text = ""
    by: PersonRef | None = None


async def review(request: web.Request) -> web.Response:
    pager = admin(request)
    number = incident_id(request)
    async with pager.db.read() as session:
        record = await found(store.incident_record(session, number))
        items = await action_store.list_items(session, incident_id=number)
    markdown = render_review(record.incident, record.events, record.notifications, items)
    return web.Response(text=markdown, content_type="text/markdown", charset="utf-8")


async def mark_reviewed(request: web.Request) -> web.Response:
    """The team held the review: stops the 7-day reminder."""
    pager = admin(request)
    number = incident_id(request)
    review = await body(request, ReviewIn, pager.policies.active.policy)
    try:
        await mark_held(pager, number, review.by, pager.clock.now(), review.notes)
    except store.IncidentNotFound as exc:
        raise ApiError(404, str(exc)) from None
    return json_response({"status": "reviewed", "id": number})
