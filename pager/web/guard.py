"""The two shapes of console handler: a page (GET, signed in) and a form
(POST, signed in, with the CSRF token of this visitor's session).

Both turn what can go wrong into pages: not signed in (to the sign-in form,
or an HX-Redirect for htmx), a refused or missing CSRF token (403), a
ConsoleError (its status and message), the database away (503).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from multidict import MultiDict, MultiDictProxy

from pager.services import pager_of
from pager.store.changes import latest_event_id
from pager.store.db import UNAVAILABLE, unavailable
from pager.web.auth import ConsoleError, Identity, Viewer, identify
from pager.web.render import LIVE_MARKER, error_page, to_sign_in
from pager.web.state import console_of

log = logging.getLogger(__name__)
Form = MultiDictProxy[str]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PageHandler = Callable[[web.Request, Identity, Viewer], Awaitable[web.StreamResponse]]
FormHandler = Callable[[web.Request, Identity, Viewer, Form], Awaitable[web.StreamResponse]]
CSRF_REFUSED = ConsoleError(
    403,
    "This form did not carry this session's security token (it may be from an old tab, "
    "or from another site). Reload the page and try again.",
    "Form refused",
)
UNAVAILABLE_PAGE = ConsoleError(
    503,
    "pager cannot reach its database right now, so this page cannot be shown or changed. "
    "Paging goes on as soon as it is back. Reload in a moment.",
    "Database unavailable",
)


def page(handler: PageHandler) -> Handler:
    async def wrapped(request: web.Request) -> web.StreamResponse:
        async def run(identity: Identity, viewer: Viewer) -> web.StreamResponse:
            await note_marker(request)
            return await handler(request, identity, viewer)

        return await _guarded(request, None, run)

    return wrapped


async def note_marker(request: web.Request) -> None:
    """The newest change, read before the page's content: the page's live stream
    starts from it, so a change made while the page was being built is not missed."""
    async with pager_of(request).db.read() as session:
        request[LIVE_MARKER] = await latest_event_id(session)


def form(handler: FormHandler) -> Handler:
    async def wrapped(request: web.Request) -> web.StreamResponse:
        data = await post_form(request)
        return await _guarded(request, data, lambda i, v: handler(request, i, v, data))

    return wrapped


async def post_form(request: web.Request) -> Form:
    raw = await request.post()
    return MultiDictProxy(MultiDict((k, v) for k, v in raw.items() if isinstance(v, str)))


async def _guarded(
    request: web.Request,
    data: Form | None,
    run: Callable[[Identity, Viewer], Awaitable[web.StreamResponse]],
) -> web.StreamResponse:
    console = console_of(request)
    identity = Identity(None, console.sessions.anonymous(), True)
    try:
        identity = identify(request)
        if identity.viewer is None:
            return to_sign_in(request, identity, back=_back(data))
        if data is not None and not console.sessions.csrf_ok(identity.session, data.get("csrf")):
            console.metrics.csrf_refused.inc()
            raise CSRF_REFUSED
        return await run(identity, identity.viewer)
    except ConsoleError as exc:
        return error_page(request, exc, identity)
    except UNAVAILABLE as exc:
        if not unavailable(exc):
            raise
        log.error("console: database unavailable: %s", exc)
        return error_page(request, UNAVAILABLE_PAGE, identity)


def _back(data: Form | None) -> str | None:
    """Where a form posted by someone no longer signed in should lead after signing in."""
    if data is None:
        return None
    return local_path(data.get("back")) or "/"


def local_path(value: str | None) -> str | None:
    """A path inside the console (`/incidents/4?x=1`), or None for anything else."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    return value
