"""HTTP plumbing shared by every handler: JSON errors, tokens, body limits,
deadlines.

Errors are `{"error": "..."}` with the contract's status codes; a database
that is not there answers 503 so Alertmanager retries later.

Deadlines, so no client and no stuck wait holds a request (and its database
connection) for long: the request's body is read before the handler runs,
within PAGER_CLIENT_TIMEOUT (408 after; its headers have the same time, see
`pager serve`), and the handler must answer within REQUEST_DEADLINE database
timeouts (503). A client that goes away before its body is read is counted
as `client_disconnected`, not as a database that is unavailable.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import ContentEncodingError
from pydantic import SecretStr

from pager.services import Pager, pager_of
from pager.store.db import UNAVAILABLE, unavailable

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ApiError(web.HTTPException):
    """An error answer with a message for a person."""

    def __init__(self, status: int, message: str, reason: str | None = None) -> None:
        self.status_code = status
        super().__init__(text=json.dumps({"error": message}), content_type="application/json")
        self.reject_reason = reason


def error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda d: json.dumps(d, default=_plain))


def _plain(value: Any) -> Any:
    """Instants as ISO-8601 (`2026-01-05T09:00:00+00:00`), the rest as text."""
    return value.isoformat() if isinstance(value, datetime) else str(value)


WEBHOOK_PATHS = ("/api/v1/alerts", "/api/v1/heartbeats", "/twilio/")
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
REQUEST_DEADLINE = 3  # database timeouts: a handler's own waits end within about 2
NO_DEADLINE = ("/-/reload",)  # parsing a big policy may take its time


def on_demand(handlers: Callable[[], Mapping[str, Handler]], name: str) -> Handler:
    """The route handler `name` of `handlers()`, looked up on each request.
    `handlers` imports the module that holds them inside itself, so that module
    (and what it brings) loads on its routes' first request, not at start."""

    async def handler(request: web.Request) -> web.StreamResponse:
        return await handlers()[name](request)

    handler.__name__ = handler.__qualname__ = name
    return handler


def route_on_demand(
    router: web.UrlDispatcher,
    routes: Sequence[tuple[str, str, str]],
    handlers: Callable[[], Mapping[str, Handler]],
) -> None:
    """Each (method, path, name) of `routes` to `on_demand(handlers, name)`; a GET
    answers HEAD too, as `add_get` makes it."""
    for method, path, name in routes:
        if method == "GET":
            router.add_get(path, on_demand(handlers, name))
        else:
            router.add_route(method, path, on_demand(handlers, name))


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        await _read_body(request)
        return await _answer(request, handler)
    except ApiError as exc:
        if exc.reject_reason and request.path.startswith(WEBHOOK_PATHS):
            pager_of(request).metrics.webhook_rejected.labels(exc.reject_reason).inc()
        raise


async def _read_body(request: web.Request) -> None:
    """The body, read within the client timeout (aiohttp keeps it for the handler).
    One that does not decode is left to the handler, to refuse in its own terms."""
    if request.method not in BODY_METHODS or not request.can_read_body:
        return
    timeout = pager_of(request).settings.client_timeout
    try:
        async with asyncio.timeout(timeout):
            await request.read()
    except TimeoutError:
        raise ApiError(408, f"body not received within {timeout:g}s", "client_timeout") from None
    except ConnectionError:
        raise ApiError(400, "client went away during its body", "client_disconnected") from None
    except web.HTTPRequestEntityTooLarge as exc:
        raise ApiError(413, f"body over the limit: {exc.text}", "too_large") from None
    except web.RequestPayloadError:
        pass


async def _answer(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith(NO_DEADLINE):
        return await _handle(request, handler)
    deadline = REQUEST_DEADLINE * pager_of(request).settings.db_timeout
    try:
        async with asyncio.timeout(deadline) as cm:
            return await _handle(request, handler)
    except TimeoutError:
        if not cm.expired():
            raise
        log.error("request not answered within %gs: %s %s", deadline, request.method, request.path)
        raise ApiError(
            503, f"not answered within {deadline:g}s, try again later", "deadline"
        ) from None


async def _handle(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError:
        raise
    except web.HTTPRequestEntityTooLarge as exc:
        raise ApiError(413, f"body over the limit: {exc.text}", "too_large") from None
    except web.RequestPayloadError as exc:  # e.g. a Twilio form whose gzip does not decode
        raise ApiError(400, _unreadable(request, exc), "malformed") from None
    except web.HTTPException as exc:
        if exc.content_type == "application/json" or exc.status < 400:
            raise
        return error(exc.status, exc.reason or "error")
    except UNAVAILABLE as exc:
        if not unavailable(exc):
            raise
        log.error("database unavailable: %s", exc)
        raise ApiError(503, "database unavailable, try again later", "unavailable") from None


# The admin API also accepts a web console session (pager.web registers how to
# check one, so this module needs nothing of the console). What such a request
# does is done as the signed-in person: its `by` is theirs.
ConsoleSession = Callable[[web.Request], "str | None"]
CONSOLE_SESSION: web.AppKey[ConsoleSession] = web.AppKey("console_session")
CONSOLE_PERSON = web.RequestKey("console_person", str)


def admin(request: web.Request) -> Pager:
    """The app's Pager, once the request carried the admin API token (or a console session)."""
    pager = pager_of(request)
    if "Authorization" not in request.headers:
        check = request.app.get(CONSOLE_SESSION)
        person = check(request) if check is not None else None
        if person is not None:
            request[CONSOLE_PERSON] = person
            return pager
    check_token(request, pager.settings.api_token)
    return pager


def check_token(request: web.Request, expected: SecretStr | None) -> None:
    """Bearer token check; no token configured means open (loopback only)."""
    if expected is None:
        return
    given = request.headers.get("Authorization", "")
    scheme, _, token = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        token.strip().encode(), expected.get_secret_value().encode()
    ):
        raise ApiError(401, "missing or wrong bearer token", "unauthorized")


async def read_body(request: web.Request, limit: int) -> bytes:
    """The body, decoded from its Content-Encoding (gzip, deflate); 400 if it does not decode."""
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, f"body over the limit of {limit} bytes", "too_large")
    try:
        body = await request.read()  # aiohttp enforces client_max_size while reading
    except web.RequestPayloadError as exc:
        raise ApiError(400, _unreadable(request, exc), "malformed") from None
    if len(body) > limit:
        raise ApiError(413, f"body over the limit of {limit} bytes", "too_large")
    return body


def _unreadable(request: web.Request, exc: web.RequestPayloadError) -> str:
    if isinstance(exc.__cause__, ContentEncodingError):
        encoding = request.headers.get("Content-Encoding", "")
        return f"body: not valid {encoding} data (Content-Encoding: {encoding})"
    return f"body could not be read: {exc}"


async def read_json(request: web.Request) -> dict[str, Any]:
    """An optional JSON object body (admin API)."""
    raw = await request.read()
    data: Any = {}
    if raw.strip():
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise ApiError(400, f"body is not valid JSON: {exc}") from None
        except RecursionError:
            raise ApiError(400, "body is not valid JSON: nested too deeply") from None
    if not isinstance(data, dict):
        raise ApiError(400, "body must be a JSON object")
    person = request.get(CONSOLE_PERSON)
    if person is not None and data.setdefault("by", person) != person:
        raise ApiError(
            403, f"signed in to the console as {person}: by must be {person!r} or left out"
        )
    return data
