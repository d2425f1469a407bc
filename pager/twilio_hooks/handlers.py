"""Twilio's webhooks: inbound SMS replies, the TwiML of a page call, keypresses
and delivery status callbacks.

Every request must carry a valid X-Twilio-Signature over PAGER_PUBLIC_URL +
the raw path; anything else is 403 and changes nothing. Replies from numbers
that are no person's are ignored (and counted).
"""

from __future__ import annotations

import logging

from aiohttp import web

from pager.actions import ACTIONS, act
from pager.core.sms_commands import Action, Command, help_text, parse_reply
from pager.core.via import Via
from pager.http import ApiError
from pager.practice.updates import post_update
from pager.services import Pager, pager_of
from pager.store import incidents as store
from pager.store.lookups import newest_page_to, notification
from pager.store.models import Incident, Notification
from pager.twilio_hooks import status, twiml
from pager.twilio_hooks.signature import verify_twilio_request

log = logging.getLogger(__name__)
XML = "application/xml"
DIGITS = {"1": "ack", "2": "escalate", "3": "resolve"}
PAST = {"ack": "acknowledged", "resolve": "resolved", "escalate": "escalated"}


async def signed_form(request: web.Request) -> tuple[Pager, dict[str, str]]:
    pager = pager_of(request)
    form = await verify_twilio_request(
        request, pager.settings.twilio_auth_token or "", pager.settings.effective_public_url
    )
    if form is None:
        raise ApiError(403, "missing or invalid Twilio signature", "bad_signature")
    return pager, form


def _xml(body: str) -> web.Response:
    return web.Response(text=body, content_type=XML)


async def sms(request: web.Request) -> web.Response:
    pager, form = await signed_form(request)
    person = pager.policies.active.policy.person_by_phone(form.get("From", ""))
    if person is None:
        pager.metrics.sms_ignored.labels("sms").inc()
        log.info("sms from an unknown number ignored")
        return _xml(twiml.empty_sms())
    command = parse_reply(form.get("Body", ""))
    if command.action in (Action.STOP, Action.START):
        return _xml(twiml.empty_sms())  # Twilio answers opt-out words itself
    if command.action == Action.HELP:
        return _xml(twiml.sms_reply(help_text()))
    return _xml(twiml.sms_reply(await _command(pager, person.id, command)))


async def _command(pager: Pager, person: str, command: Command) -> str:
    targets = [command.incident] if command.incident is not None else await _newest(pager, person)
    if not targets:
        return "No page to act on. Reply like 42A with the incident number."
    if command.action == Action.UPDATE:
        return await _update(pager, targets[0], person, command.text or "")
    name = {Action.ACK: "ack", Action.RESOLVE: "resolve", Action.ESCALATE: "escalate"}[
        command.action
    ]
    return await _apply(pager, targets, name, person, Via.SMS)


async def _newest(pager: Pager, person: str) -> list[int]:
    async with pager.db.read() as session:
        newest = await newest_page_to(session, person)
    return [] if newest is None else _incidents_of(newest)


def _incidents_of(row: Notification) -> list[int]:
    """The incidents a page speaks for: its own, or every one folded into a bundle."""
    if row.kind == "bundle":
        return [int(i) for i in row.bundle_of or []]
    return [row.incident_id] if row.incident_id is not None else []


async def _apply(pager: Pager, incident_ids: list[int], name: str, person: str, via: Via) -> str:
    done: list[str] = []
    skipped: list[str] = []
    for incident_id in incident_ids:
        try:
            changed = await act(pager, incident_id, ACTIONS[name], person, via)
        except store.IncidentNotFound:
            return f"No incident #{incident_id}."
        (done if changed else skipped).append(f"#{incident_id}")
    if done:
        return f"{PAST[name].capitalize()} {', '.join(done)}."
    return f"{', '.join(skipped)} cannot be {PAST[name]} now (already done?)."


async def _update(pager: Pager, incident_id: int, person: str, text: str) -> str:
    try:
        await post_update(pager, incident_id, person, text, Via.SMS)
    except store.IncidentNotFound:
        return f"No incident #{incident_id}."
    return f"Update posted to #{incident_id}."


async def voice(request: web.Request) -> web.Response:
    """The TwiML of a page call: read the page, gather one key; a machine gets a message."""
    pager, form = await signed_form(request)
    row = await _call_notification(pager, request)
    answered_by = form.get("AnsweredBy", "human")
    if answered_by.startswith(("machine", "fax")):
        await status.record_machine(pager, row.id, answered_by)
        return _xml(twiml.voice_machine(row.body))
    settled = await _already_settled(pager, row)
    if settled is not None:  # answered after someone else acted: say so, ask nothing
        return _xml(twiml.voice_ack_result(settled))
    return _xml(twiml.voice_page(row.body, _gather_url(pager, row.id)))


async def _already_settled(pager: Pager, row: Notification) -> str | None:
    if row.kind != "page" or row.incident_id is None:
        return None
    async with pager.db.read() as session:
        incident = await session.get(Incident, row.incident_id)
    if incident is None or incident.state == "triggered":
        return None
    who = incident.acked_by if incident.state == "acknowledged" else incident.resolved_by
    by = f" by {who}" if who else ""
    return f"Incident {incident.id} was already {incident.state}{by}. Nothing to do. Goodbye."


async def gather(request: web.Request) -> web.Response:
    pager, form = await signed_form(request)
    row = await _call_notification(pager, request)
    name = DIGITS.get(form.get("Digits", ""))
    # A bundle call (incident_id None) acts on all its incidents, as a reply
    # to a bundle SMS does; before, its keys only ever repeated the menu.
    targets = _incidents_of(row)
    if name is None or not targets:
        return _xml(twiml.voice_page(row.body, _gather_url(pager, row.id)))
    text = await _apply(pager, targets, name, row.person_id, Via.VOICE)
    return _xml(twiml.voice_ack_result(text))


async def status_callback(request: web.Request) -> web.Response:
    pager, form = await signed_form(request)
    await status.record(pager, _notification_id(request), form)
    return web.Response(status=204)


async def _call_notification(pager: Pager, request: web.Request) -> Notification:
    async with pager.db.read() as session:
        row = await notification(session, _notification_id(request))
    if row is None:
        raise ApiError(404, "no such notification")
    return row


def _notification_id(request: web.Request) -> int:
    raw = request.query.get("n", "")
    if not raw.isdigit():
        raise ApiError(400, "query parameter n (the notification id) is required")
    return int(raw)


def _gather_url(pager: Pager, notification_id: int) -> str:
    return f"{pager.settings.effective_public_url}/twilio/voice/gather?n={notification_id}"
