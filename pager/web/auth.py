"""Who is looking at the console: a person of the policy, or nobody.

Two ways in, as the Prometheus ecosystem does it:
1. A trusted header set by an authenticating proxy (oauth2-proxy and the like):
   PAGER_AUTH_PROXY_HEADER names it, and only requests whose TCP peer is in
   PAGER_AUTH_PROXY_TRUSTED may set it. The value is a person's id or email.
   The header from anywhere else is ignored (and counted): anyone can send a
   header, only the proxy's address proves who set it.
2. The session cookie of a sign-in with a web config user (pager.web.sessions).

A session whose person left the web config or the policy, changed password,
or expired, signs in nobody.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from aiohttp import web

from pager.edge import ApiError
from pager.policy.model import Person
from pager.services import Pager, pager_of
from pager.settings import IPNetwork
from pager.web.sessions import Session, stamp_of
from pager.web.state import CONSOLE, Console, console_of

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class ConsoleError(Exception):
    """An error page: the status, and what a person can do about it."""

    def __init__(self, status: int, message: str, title: str = "") -> None:
        super().__init__(message)
        self.status, self.message, self.title = status, message, title


@dataclass(frozen=True)
class Viewer:
    person: Person
    session: Session  # the cookie's; for a proxy sign-in an anonymous one (its CSRF nonce)
    by_proxy: bool = False


@dataclass(frozen=True)
class Identity:
    viewer: Viewer | None
    session: Session  # the cookie to keep (or set)
    fresh: bool  # the cookie must be (re)set on the response
    why_not: str | None = None  # why a session no longer signs anyone in


def identify(request: web.Request) -> Identity:
    pager, console = pager_of(request), console_of(request)
    cookie = console.sessions.read(request)
    session = cookie or console.sessions.anonymous()
    proxied = proxy_person(request, pager, console)
    if proxied is not None:
        anonymous = session if session.person is None else console.sessions.anonymous()
        return Identity(Viewer(proxied, anonymous, by_proxy=True), anonymous, anonymous != cookie)
    if session.person is None:
        return Identity(None, session, cookie is None)
    why_not = _invalid(session, pager, console)
    if why_not is not None:
        return Identity(None, console.sessions.anonymous(), True, why_not)
    person = pager.policies.active.policy.person(session.person)
    return Identity(Viewer(person, session), session, False)


def _invalid(session: Session, pager: Pager, console: Console) -> str | None:
    person = session.person or ""
    if session.expired(pager.clock.now()):
        return "Your session has expired. Sign in again."
    hashed = console.users.users().get(person)
    if hashed is None or stamp_of(hashed) != session.stamp:
        return "Your sign-in was withdrawn (the password changed or the user was removed)."
    if pager.policies.active.policy.person_by_id(person) is None:
        return f"{person} is no longer a person of the policy."
    return None


def proxy_person(request: web.Request, pager: Pager, console: Console) -> Person | None:
    header = pager.settings.auth_proxy_header
    if not header or header not in request.headers:
        return None
    if not trusted(request.remote, pager.settings.trusted_proxies):
        console.metrics.proxy_untrusted.inc()
        return None
    value = request.headers[header].strip()
    policy = pager.policies.active.policy
    person = policy.person_by_id(value) or policy.person_by_email(value)
    if person is None:
        raise ConsoleError(
            403,
            f"Your sign-in proxy says you are {value!r}, but no person of pager's policy has "
            f"that id or email. Add `email: {value}` to your entry in the policy's people.",
            "Not a person of the policy",
        )
    return person


def trusted(remote: str | None, networks: tuple[IPNetwork, ...]) -> bool:
    if not remote or not networks:
        return False
    try:
        address = ipaddress.ip_address(remote)
    except ValueError:
        return False
    return any(address in network for network in networks)


def client_address(request: web.Request) -> str:
    """The browser's address: behind a trusted proxy, the last hop it added."""
    remote = request.remote or "unknown"
    networks = pager_of(request).settings.trusted_proxies
    if not trusted(remote, networks):
        return remote
    hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not trusted(hop, networks):
            return hop
    return remote


def api_session(request: web.Request) -> str | None:
    """The person of a console session behind an admin API request (cookie or
    proxy header), or None. An unsafe method also needs the session's CSRF
    token in `X-CSRF-Token`, as a console form carries it in a field."""
    if CONSOLE not in request.app:
        return None
    try:
        identity = identify(request)
    except ConsoleError as exc:
        raise ApiError(exc.status, exc.message) from None
    if identity.viewer is None:
        return None
    console = console_of(request)
    if request.method not in SAFE_METHODS and not console.sessions.csrf_ok(
        identity.viewer.session, request.headers.get("X-CSRF-Token")
    ):
        console.metrics.csrf_refused.inc()
        raise ApiError(403, "a console session needs its CSRF token in the X-CSRF-Token header")
    return identity.viewer.person.id
