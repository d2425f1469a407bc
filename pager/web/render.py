"""Rendering console pages: the shared context, the session cookie, the
security headers, and error pages a person can act on (never a JSON body).

Every page is sent with a Content-Security-Policy that allows only pager's own
scripts and styles, so an alert's label or annotation can never run script in
the console even if escaping failed somewhere.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import jinja2
from aiohttp import web

from pager.services import pager_of
from pager.web.auth import ConsoleError, Identity
from pager.web.state import Console, console_of
from pager.web.templating import environment
from pager.web.views import name_of

LIVE_MARKER = web.RequestKey("console_live_marker", int)
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def render(
    request: web.Request,
    template: str,
    context: dict[str, Any],
    identity: Identity,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> web.Response:
    console, pager = console_of(request), pager_of(request)
    viewer = identity.viewer
    note = console.sessions.read_note(request)
    base: dict[str, Any] = {
        "viewer": viewer,
        "csrf": console.sessions.csrf_token(identity.session),
        "tz": viewer.person.timezone if viewer else "UTC",
        "now": pager.clock.now(),
        "note": note,
        "here": str(request.rel_url),
        "live_marker": request.get(LIVE_MARKER, console.broadcaster.marker),
        "section": "",
        "errors": {},
        "name": lambda person: name_of(pager.policies.active.policy, person),
    }
    text = templates(console).get_template(template).render({**base, **context})
    response = web.Response(text=text, status=status, content_type="text/html", charset="utf-8")
    response.headers.update(SECURITY_HEADERS)
    response.headers.update(headers or {})
    if note is not None:
        console.sessions.clear_note(response)
    if identity.fresh:
        console.sessions.write(response, identity.session)
    return response


def templates(console: Console) -> jinja2.Environment:
    """The console's templates, made on the first page it renders."""
    if console.templates is None:
        console.templates = environment(console.prefix, console.assets)
    return console.templates


def error_page(request: web.Request, error: ConsoleError, identity: Identity) -> web.Response:
    if request.headers.get("HX-Request") and not request.headers.get("HX-Boosted"):
        # A live refresh in the background: keep what is shown, and say it is stale.
        return web.Response(status=204, headers={"HX-Trigger": "pager-stale"})
    context = {"error": error, "title": error.title or "Something went wrong"}
    return render(request, "error.html", context, identity, status=error.status)


def to_sign_in(request: web.Request, identity: Identity, back: str | None = None) -> web.Response:
    """Send someone not signed in to the form, remembering where they were going."""
    console = console_of(request)
    target = console.url("/sign-in")
    path = back if back is not None else request.rel_url.path_qs
    if path not in ("/", ""):
        target += "?" + urlencode({"next": path})
    if request.headers.get("HX-Request"):
        response: web.Response = web.Response(status=401, headers={"HX-Redirect": target})
    else:
        response = web.Response(status=303, headers={"Location": target})
    if identity.why_not:
        console.sessions.note(response, identity.why_not)
    if identity.fresh:
        console.sessions.write(response, identity.session)
    return response
