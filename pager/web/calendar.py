"""Calendar feeds (iCalendar, RFC 5545, built with the `icalendar` package).

`/calendar/{token}/person.ics` is the token's person's shifts across every
rotation; `/calendar/{token}/rotation/{id}.ics` every shift of one rotation.
The token is a person's secret (pager.store.calendars: stored as a hash, so
the URL is shown only to the browser that made it, which keeps it in a
cookie); a token that is unknown, or was replaced by a newer one, is 404,
and so is the feed of a person who left the policy.

Events are the schedule's blocks (pager.core.schedule), exactly what
`GET /api/v1/oncall` answers at each instant, from FEED_PAST before now to
FEED_AHEAD after; times are in the rotation's zone with its VTIMEZONE, so a
calendar shows the 09:00 handoff at 09:00 in summer and winter alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from aiohttp import web

from pager.core.oncall import Overrides
from pager.core.schedule import Block, blocks
from pager.policy.model import Policy, Rotation
from pager.services import pager_of
from pager.store import audit, calendars
from pager.store import overrides as store
from pager.web.auth import Identity, Viewer
from pager.web.fmt import local
from pager.web.guard import Form, form, local_path
from pager.web.state import console_of
from pager.web.views import name_of

if TYPE_CHECKING:
    from icalendar import Calendar, Event

FEED_PAST = timedelta(days=14)
FEED_AHEAD = timedelta(days=90)
NOT_FOUND = "no such calendar feed (the link may have been replaced by a newer one)"


@dataclass(frozen=True)
class FeedLinks:
    person: str  # the viewer's own feed
    rotations: dict[str, str]  # rotation id -> its feed
    made_at: datetime | None  # when the viewer's current link was made


async def feed_links(request: web.Request, viewer: Viewer) -> FeedLinks | None:
    """The viewer's feed URLs if this browser holds their current token, else None."""
    pager, console = pager_of(request), console_of(request)
    person = viewer.person.id
    token = console.sessions.feed_token(request, person)
    async with pager.db.read() as session:
        made = await calendars.made_at(session, person)
        current = token is not None and await calendars.is_current(session, person, token)
    if not current or token is None:
        return FeedLinks("", {}, made) if made else None
    base = pager.settings.effective_public_url.rstrip("/") + f"/calendar/{token}"
    rotations = pager.policies.active.policy.rotations
    return FeedLinks(
        f"{base}/person.ics", {r.id: f"{base}/rotation/{r.id}.ics" for r in rotations}, made
    )


@form
async def new_link(
    request: web.Request, identity: Identity, viewer: Viewer, data: Form
) -> web.StreamResponse:
    """Make the viewer a new calendar token (the old one's feeds stop at once)."""
    pager, console = pager_of(request), console_of(request)
    now = pager.clock.now()
    person = viewer.person.id
    async with pager.db.write() as session:
        token = await calendars.new_token(session, person, now)
        audit.record(session, now, person, "calendar_link_made", f"person:{person}")
    back = (local_path(data.get("back")) or "/my").partition("#")[0]
    response = web.Response(status=303, headers={"Location": console.url(back + "#calendar")})
    console.sessions.keep_feed_token(response, person, token)
    console.sessions.note(
        response, "New calendar link made: subscribe with the links below. Any older link is dead."
    )
    return response


async def person_feed(request: web.Request) -> web.StreamResponse:
    pager = pager_of(request)
    policy = pager.policies.active.policy
    person = await _owner(request)
    if policy.person_by_id(person) is None:
        raise web.HTTPNotFound(text=NOT_FOUND)
    now = pager.clock.now()
    overrides = await _overrides(request)
    events = [
        (rotation, b)
        for rotation in policy.rotations
        for b in _blocks(rotation, now, overrides)
        if b.person == person
    ]
    title = f"On call: {name_of(policy, person)}"
    return _ics(_calendar(title, policy, events, now), person)


async def rotation_feed(request: web.Request) -> web.StreamResponse:
    pager = pager_of(request)
    policy = pager.policies.active.policy
    person = await _owner(request)
    wanted = request.match_info["rotation"]
    rotation = next((r for r in policy.rotations if r.id == wanted), None)
    if rotation is None or policy.person_by_id(person) is None:
        raise web.HTTPNotFound(text=NOT_FOUND)
    now = pager.clock.now()
    events = [(rotation, b) for b in _blocks(rotation, now, await _overrides(request))]
    return _ics(_calendar(f"On call: {rotation.id}", policy, events, now), rotation.id)


async def _owner(request: web.Request) -> str:
    async with pager_of(request).db.read() as session:
        person = await calendars.person_of(session, request.match_info["token"])
    if person is None:
        raise web.HTTPNotFound(text=NOT_FOUND)
    return person


async def _overrides(request: web.Request) -> Overrides:
    async with pager_of(request).db.read() as session:
        return store.by_rotation(await store.list_overrides(session))


def _blocks(rotation: Rotation, now: datetime, overrides: Overrides) -> list[Block]:
    return blocks(rotation, now - FEED_PAST, now + FEED_AHEAD, overrides.get(rotation.id, ()))


def _calendar(
    title: str, policy: Policy, events: Sequence[tuple[Rotation, Block]], now: datetime
) -> Calendar:
    from icalendar import Calendar  # only when a feed is asked for: 0.1 s off start-up

    cal = Calendar()
    cal.add("prodid", "-//pager//on-call schedule//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", title)
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    for rotation, block in sorted(events, key=lambda e: (e[1].start, e[0].id)):
        cal.add_component(_event(policy, rotation, block, now))
    cal.add_missing_timezones()
    return cal


def _event(policy: Policy, rotation: Rotation, block: Block, now: datetime) -> Event:
    zone = ZoneInfo(rotation.timezone)
    who = name_of(policy, block.person) if block.person else "Nobody"
    from icalendar import Event

    event = Event()
    event.add("uid", f"{rotation.id}/{block.start:%Y%m%dT%H%M%SZ}@pager")
    event.add("dtstamp", now)
    event.add("dtstart", block.start.astimezone(zone))
    event.add("dtend", block.end.astimezone(zone))
    event.add("summary", f"{who} on call: {rotation.id}")
    event.add("description", _description(policy, rotation, block, who))
    event.add("transp", "TRANSPARENT")  # being on call is not being busy
    event.add("x-pager-rotation", rotation.id)
    event.add("x-pager-person", block.person or "")
    return event


def _description(policy: Policy, rotation: Rotation, block: Block, who: str) -> str:
    zone = rotation.timezone
    text = (
        f"{who} is on call for {rotation.id} from {local(block.start, zone)} "
        f"until {local(block.end, zone)} ({zone})."
    )
    if block.override is not None and block.scheduled:
        text += f" Override: covers for {name_of(policy, block.scheduled)}."
    return text


def _ics(cal: Calendar, name: str) -> web.Response:
    return web.Response(
        body=cal.to_ical(),
        content_type="text/calendar",
        charset="utf-8",
        headers={
            "Content-Disposition": f'inline; filename="{name}.ics"',
            "Cache-Control": "private, max-age=300",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )
