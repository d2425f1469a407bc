"""Signing in with a web config user, and out.

An attempt is refused before any password work when its address or the
person it names tried too often (429, with when to try again); every attempt
is counted by outcome. The answer never says whether the person exists.
"""

from __future__ import annotations

import logging
import math

from aiohttp import web

from pager.services import pager_of
from pager.web.auth import ConsoleError, Identity, client_address, identify
from pager.web.guard import CSRF_REFUSED, Form, local_path, post_form
from pager.web.metrics import SignIn
from pager.web.passwords import check_password
from pager.web.render import error_page, render
from pager.web.state import console_of

log = logging.getLogger(__name__)
WRONG = "Wrong person id or password."


async def sign_in_form(request: web.Request) -> web.StreamResponse:
    try:
        identity = identify(request)
    except ConsoleError as exc:
        return error_page(
            request, exc, Identity(None, console_of(request).sessions.anonymous(), True)
        )
    nxt = local_path(request.query.get("next")) or "/"
    if identity.viewer is not None:
        raise web.HTTPSeeOther(console_of(request).url(nxt))
    return _form(request, identity, nxt)


def _form(
    request: web.Request,
    identity: Identity,
    nxt: str,
    error: str | None = None,
    person: str = "",
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> web.Response:
    pager, console = pager_of(request), console_of(request)
    context = {
        "title": "Sign in",
        "next": nxt,
        "error": error,
        "person": person,
        "has_users": bool(console.users.users()),
        "proxy_header": pager.settings.auth_proxy_header,
        "web_config": pager.settings.web_config,
    }
    return render(request, "sign_in.html", context, identity, status, headers)


async def sign_in(request: web.Request) -> web.StreamResponse:
    data = await post_form(request)
    console = console_of(request)
    identity = identify(request)
    nxt = local_path(data.get("next")) or "/"
    if not console.sessions.csrf_ok(identity.session, data.get("csrf")):
        console.metrics.csrf_refused.inc()
        return error_page(request, CSRF_REFUSED, identity)
    return await _attempt(request, identity, data, nxt)


async def _attempt(
    request: web.Request, identity: Identity, data: Form, nxt: str
) -> web.StreamResponse:
    pager, console = pager_of(request), console_of(request)
    person, password = (data.get("person") or "").strip(), data.get("password") or ""
    now, address = pager.clock.now(), client_address(request)
    wait = console.by_address.wait(address, now) or console.by_person.wait(person, now)
    if wait is not None:
        console.metrics.sign_ins.labels(SignIn.RATE_LIMITED).inc()
        minutes = max(1, math.ceil(wait.total_seconds() / 60))
        message = f"Too many sign-in attempts. Try again in {minutes} min."
        headers = {"Retry-After": str(math.ceil(wait.total_seconds()))}
        return _form(request, identity, nxt, message, person, 429, headers)
    console.by_address.hit(address, now)
    hashed = console.users.users().get(person)
    if not await check_password(hashed, password):
        console.by_person.hit(person, now)
        outcome = SignIn.WRONG_PASSWORD if hashed else SignIn.UNKNOWN_USER
        console.metrics.sign_ins.labels(outcome).inc()
        log.info("console sign-in refused", extra={"person": person, "outcome": str(outcome)})
        return _form(request, identity, nxt, WRONG, person, 401)
    if hashed is None or pager.policies.active.policy.person_by_id(person) is None:
        console.metrics.sign_ins.labels(SignIn.NOT_IN_POLICY).inc()
        message = f"{person} is in the web config but not a person of the policy: add them there."
        return _form(request, identity, nxt, message, person, 403)
    console.metrics.sign_ins.labels(SignIn.OK).inc()
    log.info("console sign-in", extra={"person": person})
    response = web.Response(status=303, headers={"Location": console.url(nxt)})
    console.sessions.write(response, console.sessions.signed_in(person, hashed, now))
    return response


async def sign_out(request: web.Request) -> web.StreamResponse:
    data = await post_form(request)
    console = console_of(request)
    identity = identify(request)
    if not console.sessions.csrf_ok(identity.session, data.get("csrf")):
        console.metrics.csrf_refused.inc()
        return error_page(request, CSRF_REFUSED, identity)
    response = web.Response(status=303, headers={"Location": console.url("/sign-in")})
    console.sessions.write(response, console.sessions.anonymous())
    console.sessions.note(response, "Signed out.")
    return response
