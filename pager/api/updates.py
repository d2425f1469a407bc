"""`POST /api/v1/incidents/{id}/updates`: a status update, told to the
incident's stakeholders (pager.practice.updates)."""

from __future__ import annotations

from aiohttp import web

from pager.api.incidents import incident_id
from pager.edge import ApiError, admin, json_response
from pager.inputs import Body, PersonRef, Required, body, via_of
from pager.practice.updates import post_update
from pager.store import incidents as store


class UpdateIn(Body):
    text: Required
    by: PersonRef | None = None


async def post_status_update(request: web.Request) -> web.Response:
    pager = admin(request)
    number = incident_id(request)
    update = await body(request, UpdateIn, pager.policies.active.policy)
    try:
        await post_update(pager, number, update.by, update.text, via_of(request))
    except store.IncidentNotFound as exc:
        raise ApiError(404, str(exc)) from None
    return json_response({"status": "posted", "id": number}, status=201)
