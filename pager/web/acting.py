"""Console actions: acknowledge, escalate, resolve (one or several), post a status update.

Each runs the same action function as the admin API, SMS replies and
keypresses (pager.actions), with the signed-in person as its actor and
`via: console` on the timeline. Success answers 303 to the page the form was
on (post/redirect/get, with a note of what was done). A refusal (409: the
incident's state does not allow it) shows that page again with the reason
inline, beside the incident: "#42 is already acknowledged by Bob Roe, 3 min ago".
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime

from aiohttp import web

from pager.actions import Action, act
from pager.core.via import Via
from pager.core.vocabulary import IncidentState
from pager.practice.updates import post_update
from pager.services import Pager, pager_of
from pager.store import incidents as store
from pager.store.models import Incident
from pager.web.auth import ConsoleError, Identity, Viewer
from pager.web.fmt import duration
from pager.web.guard import Form, form, local_path
from pager.web.incident import incident_id, render_incident
from pager.web.incidents import render_list
from pager.web.now import render_now
from pager.web.state import console_of
from pager.web.views import name_of

VIA = Via.CONSOLE
VERBS: dict[str, tuple[Action, str]] = {
    "ack": (store.acknowledge, "Acknowledged"),
    "escalate": (store.escalate, "Escalated"),
    "resolve": (store.resolve, "Resolved"),
}
INCIDENT_PATH = re.compile(r"^/incidents/(\d+)$")
Errors = dict[int, str]


def redirect(request: web.Request, back: str, note: str) -> web.Response:
    console = console_of(request)
    response = web.Response(status=303, headers={"Location": console.url(back)})
    console.sessions.note(response, note)
    return response


async def show_again(
    request: web.Request, identity: Identity, viewer: Viewer, back: str, errors: Errors, status: int
) -> web.Response:
    """The page the form came from, again, with the refusals beside their incidents."""
    path = back.partition("?")[0]
    match = INCIDENT_PATH.match(path)
    if match:
        response = await render_incident(request, identity, viewer, int(match[1]), errors, status)
    elif path == "/incidents":
        response = await render_list(request, identity, viewer, back, errors, status)
    else:
        response = await render_now(request, identity, viewer, errors, status)
    response.headers["HX-Push-Url"] = console_of(request).url(back)
    return response


async def refusal(pager: Pager, ident: int, verb: str) -> str:
    """Why the incident's state did not allow `verb`, with who and when."""
    async with pager.db.read() as session:
        incident = await store.load_incident(session, ident)
    policy = await pager.policies.snapshot(incident.policy_version_id)
    now = pager.clock.now()
    return because(incident, verb, now, lambda p: name_of(policy, p))


def because(incident: Incident, verb: str, now: datetime, name: Callable[[str | None], str]) -> str:
    if incident.state == IncidentState.RESOLVED and incident.resolved_at is not None:
        who = f" by {name(incident.resolved_by)}" if incident.resolved_by else ""
        ago = duration(now - incident.resolved_at)
        return f"#{incident.id} is already resolved{who}, {ago} ago."
    if incident.state == IncidentState.ACKNOWLEDGED and incident.acked_at is not None:
        ago = duration(now - incident.acked_at)
        return f"#{incident.id} is already acknowledged by {name(incident.acked_by)}, {ago} ago."
    return f"#{incident.id} cannot be {verb} in its state ({incident.state})."


async def _one(pager: Pager, ident: int, verb: str, viewer: Viewer) -> str | None:
    """Do `verb` to the incident; None when done, else why not (ConsoleError 404 if
    there is no such incident)."""
    action, _ = VERBS[verb]
    try:
        changed = await act(pager, ident, action, viewer.person.id, VIA)
    except store.IncidentNotFound:
        raise ConsoleError(404, f"There is no incident #{ident}.", "No such incident") from None
    return None if changed else await refusal(pager, ident, verb)


def on_incident(verb: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    @form
    async def handler(
        request: web.Request, identity: Identity, viewer: Viewer, data: Form
    ) -> web.StreamResponse:
        ident = incident_id(request)
        back = local_path(data.get("back")) or f"/incidents/{ident}"
        why = await _one(pager_of(request), ident, verb, viewer)
        if why is None:
            return redirect(request, back, f"{VERBS[verb][1]} #{ident}.")
        return await show_again(request, identity, viewer, back, {ident: why}, 409)

    return handler


@form
async def bulk(
    request: web.Request, identity: Identity, viewer: Viewer, data: Form
) -> web.StreamResponse:
    """Acknowledge or resolve the incidents ticked on the Incidents page."""
    verb = data.get("action", "")
    if verb not in ("ack", "resolve"):
        raise ConsoleError(400, "Choose Acknowledge or Resolve for the selected incidents.")
    ids = sorted({int(v) for v in data.getall("id", []) if v.isdigit()})
    back = local_path(data.get("back")) or "/incidents"
    if not ids:
        return await show_again(
            request, identity, viewer, back, {0: "Select incidents first."}, 400
        )
    done, refused = [], {}
    for ident in ids:
        try:
            why = await _one(pager_of(request), ident, verb, viewer)
        except ConsoleError as exc:
            why = exc.message
        if why is None:
            done.append(f"#{ident}")
        else:
            refused[ident] = why
    if not refused:
        return redirect(request, back, f"{VERBS[verb][1]} {', '.join(done)}.")
    if done:
        refused[0] = f"{VERBS[verb][1]} {', '.join(done)}; the others are marked below."
    return await show_again(request, identity, viewer, back, refused, 200 if done else 409)


@form
async def status_update(
    request: web.Request, identity: Identity, viewer: Viewer, data: Form
) -> web.StreamResponse:
    ident = incident_id(request)
    text = (data.get("text") or "").strip()
    if not text:
        update = ("", "Write the update first: it is sent to the stakeholders.")
        return await render_incident(request, identity, viewer, ident, status=400, update=update)
    try:
        await post_update(pager_of(request), ident, viewer.person.id, text, via=VIA)
    except store.IncidentNotFound:
        raise ConsoleError(404, f"There is no incident #{ident}.", "No such incident") from None
    return redirect(request, f"/incidents/{ident}", "Status update posted; stakeholders are told.")
