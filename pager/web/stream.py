"""`GET /events`: the live-update stream (server-sent events) of one console tab.

Events: `change` (id and data: the newest timeline event id) makes the page's
live parts fetch themselves again; `announce` carries "New P1 incident #42 …"
for the page's aria-live region. A reconnecting browser sends Last-Event-ID,
and the page's first connect `?since=`, so a change missed while away is
sent at once. The stream ends when the session expires or pager shuts down.
"""

from __future__ import annotations

import html

from aiohttp import web
from aiohttp_sse import EventSourceResponse

from pager.services import pager_of
from pager.web.auth import ConsoleError, Identity, identify
from pager.web.live import Change, Subscription, TooManyStreams
from pager.web.state import Console, console_of

WAKE = 5.0  # seconds between checks that the tab and its session are still there


async def events(request: web.Request) -> web.StreamResponse:
    try:
        identity = identify(request)
    except ConsoleError as exc:
        return web.Response(status=exc.status, text=exc.message)
    if identity.viewer is None:
        return web.Response(status=401, text="not signed in")
    console = console_of(request)
    since = request.headers.get("Last-Event-ID") or request.query.get("since") or ""
    try:
        sub = console.broadcaster.join(int(since) if since.isdigit() else None)
    except TooManyStreams:
        return web.Response(status=503, text="too many live streams; reload later")
    stream = EventSourceResponse()
    console.metrics.live_streams.inc()
    try:
        await stream.prepare(request)
        async with stream:
            await _stream(request, console, identity, sub, stream)
    except ConnectionResetError:
        pass  # the tab went away
    finally:
        console.metrics.live_streams.dec()
        console.broadcaster.leave(sub)
    return stream


async def _stream(
    request: web.Request,
    console: Console,
    identity: Identity,
    sub: Subscription,
    stream: EventSourceResponse,
) -> None:
    clock = pager_of(request).clock
    while stream.is_connected() and not sub.closed:
        if identity.session.expired(clock.now()):
            return
        change = await sub.next(WAKE)
        if change is not None:
            await _send(request, console, stream, change)


async def _send(
    request: web.Request, console: Console, stream: EventSourceResponse, change: Change
) -> None:
    await stream.send(str(change.marker), event="change", id=str(change.marker))
    for opened in change.opened:
        link = console.url(f"/incidents/{opened.incident_id}")
        text = html.escape(opened.text)
        await stream.send(f'<p><a href="{html.escape(link)}">{text}</a></p>', event="announce")
