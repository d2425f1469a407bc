"""Twilio's webhooks: inbound SMS replies, the TwiML of a page call, keypresses
and delivery status callbacks.

Every request must carry a valid X-Twilio-Signature over PAGER_PUBLIC_URL +
the raw path (403), and the fields we use must be what Twilio sends (400,
form.py); either way nothing changes. Replies from numbers that are no
person's are ignored (and counted). A reply or keypress acts only for a
responder of the incident (responders.py), and only once (replays.py). A
call's requests must be about the call its notification placed (its CallSid,
status.fits), and a call that a machine answered cannot acknowledge.
"""

from __future__ import annotations

import logging

from aiohttp import web

from pager.actions import ACTIONS, act
from pager.core import page_text
from pager.core.sms_commands import Action, Command, parse_reply
from pager.core.via import Via
from pager.core.vocabulary import Channel, IncidentState, NotificationKind, NotificationState
from pager.edge import ApiError, Handler
from pager.practice.updates import post_update
from pager.services import Pager
from pager.store import incidents as store
from pager.store.models import Incident, Notification
from pager.store.notifications import newest_page_to, notification
from pager.twilio_hooks import status, twiml
from pager.twilio_hooks.form import CallForm, SmsForm, StatusForm, notification_id, signed
from pager.twilio_hooks.replays import once
from pager.twilio_hooks.responders import may_act

log = logging.getLogger(__name__)
XML = "application/xml"
DIGITS = {"1": "ack", "2": "escalate", "3": "resolve"}


def _xml(body: str) -> web.Response:
    return web.Response(text=body, content_type=XML)


async def sms(request: web.Request) -> web.Response:
    pager, form = await signed(request, SmsForm)
    person = pager.policies.active.policy.person_by_phone(form.from_)
    if person is None:
        pager.metrics.sms_ignored.labels(Channel.SMS).inc()
        log.info("sms from an unknown number ignored")
        return _xml(twiml.empty_sms())
    key = f"sms:{form.message_sid}"
    return _xml(
        await once(pager, Channel.SMS, key, lambda: _sms_reply(pager, person.id, form.body))
    )


async def _sms_reply(pager: Pager, person: str, body: str) -> str:
    command = parse_reply(body)
    if command.action in (Action.STOP, Action.START):
        return twiml.empty_sms()  # Twilio answers opt-out words itself
    if command.action == Action.HELP:
        return twiml.sms_reply(page_text.help_text())
    return twiml.sms_reply(await _command(pager, person, command))


async def _command(pager: Pager, person: str, command: Command) -> str:
    targets = [command.incident] if command.incident is not None else await _newest(pager, person)
    if not targets:
        return page_text.NOTHING_TO_ACT_ON
    if command.incident is not None and not await may_act(pager, person, command.incident):
        pager.metrics.inbound_refused.labels(Channel.SMS).inc()
        log.info("sms from someone not paged for the incident refused")
        return page_text.refusal(command.incident)
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
    if row.kind == NotificationKind.BUNDLE:
        return [int(i) for i in row.bundle_of or []]
    return [row.incident_id] if row.incident_id is not None else []


async def _apply(pager: Pager, incident_ids: list[int], name: str, person: str, via: Via) -> str:
    done: list[int] = []
    skipped: list[int] = []
    for incident_id in incident_ids:
        try:
            changed = await act(pager, incident_id, ACTIONS[name], person, via)
        except store.IncidentNotFound:
            return page_text.no_incident(incident_id)
        (done if changed else skipped).append(incident_id)
    return page_text.acted(name, done, skipped)


async def _update(pager: Pager, incident_id: int, person: str, text: str) -> str:
    try:
        await post_update(pager, incident_id, person, text, Via.SMS)
    except store.IncidentNotFound:
        return page_text.no_incident(incident_id)
    return page_text.update_posted(incident_id)


async def voice(request: web.Request) -> web.Response:
    """The TwiML of a page call: read the page, gather one key; a machine gets a message."""
    pager, form = await signed(request, CallForm)
    row = await _call_notification(pager, request, form)
    if row is None:
        return _xml(twiml.voice_ack_result(page_text.OUT_OF_DATE_CALL))
    if form.answered_by.startswith(("machine", "fax")):
        await status.record_machine(pager, row.id, form.call_sid, form.answered_by)
        return _xml(twiml.voice_machine(row.body))
    settled = await _already_settled(pager, row)
    if settled is not None:  # answered after someone else acted: say so, ask nothing
        return _xml(twiml.voice_ack_result(settled))
    return _xml(twiml.voice_page(row.body, _gather_url(pager, row.id)))


async def _already_settled(pager: Pager, row: Notification) -> str | None:
    if row.kind != NotificationKind.PAGE or row.incident_id is None:
        return None
    async with pager.db.read() as session:
        incident = await session.get(Incident, row.incident_id)
    if incident is None or incident.state == IncidentState.TRIGGERED:
        return None
    who = (
        incident.acked_by if incident.state == IncidentState.ACKNOWLEDGED else incident.resolved_by
    )
    return page_text.already_settled(incident.id, incident.state, who)


async def gather(request: web.Request) -> web.Response:
    pager, form = await signed(request, CallForm)
    row = await _call_notification(pager, request, form)
    if row is None:
        return _xml(twiml.voice_ack_result(page_text.OUT_OF_DATE_CALL))
    name = DIGITS.get(form.digits)
    # A bundle call (incident_id None) acts on all its incidents, as a reply
    # to a bundle SMS does; before, its keys only ever repeated the menu.
    targets = _incidents_of(row)
    if name is None or not targets:
        return _xml(twiml.voice_page(row.body, _gather_url(pager, row.id)))
    if row.state == NotificationState.FAILED_PERM:  # a machine answered (or the call failed)
        pager.metrics.inbound_refused.labels(Channel.VOICE).inc()
        return _xml(twiml.voice_ack_result(page_text.MACHINE_ANSWERED))

    async def keypress() -> str:
        text = await _apply(pager, targets, name, row.person_id, Via.VOICE)
        return twiml.voice_ack_result(text)

    return _xml(await once(pager, Channel.VOICE, f"voice:{form.call_sid}:{form.digits}", keypress))


async def status_callback(request: web.Request) -> web.Response:
    pager, form = await signed(request, StatusForm)
    await status.record(pager, notification_id(request), form)
    return web.Response(status=204)


async def _call_notification(
    pager: Pager, request: web.Request, form: CallForm
) -> Notification | None:
    """The notification whose call this is (404 if none); None when the request is
    about another call than the one it placed (counted)."""
    async with pager.db.read() as session:
        row = await notification(session, notification_id(request))
    if row is None:
        raise ApiError(404, "no such notification")
    if not status.fits(row, form.call_sid):
        status.mismatched(pager, row, form.call_sid)
        return None
    return row


def _gather_url(pager: Pager, notification_id: int) -> str:
    return f"{pager.settings.effective_public_url}/twilio/voice/gather?n={notification_id}"


# By the name pager.app routes them under; this module is imported on the first
# Twilio request (it brings Twilio's TwiML builders and request validator).
HANDLERS: dict[str, Handler] = {
    "sms": sms,
    "voice": voice,
    "gather": gather,
    "status": status_callback,
}
