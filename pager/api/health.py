"""Liveness, readiness, metrics and policy reload.

/healthz: alive, the engine ticks. /readyz: ready to take a page end to end:
a policy is loaded, the database takes a write *now* (a row written and
rolled back, big enough to need a new page, so a SQLite database that is
read-only or full is caught, not only one that answers SELECT 1), the
engine is not stuck, and the notifier, made in the background
(pager.notify.deferred), did not fail to start. Both answer within the
database timeout.
"""

from __future__ import annotations

import logging

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy.exc import DBAPIError

from pager.edge import ApiError, check_token, json_response
from pager.notify.deferred import Deferred
from pager.services import Pager, pager_of
from pager.store.db import UNAVAILABLE, unreachable
from pager.store.inbound import probe_write
from pager.store.incidents import open_counts

STALE_TICKS = 3  # the engine is stuck when it has not ticked in 3 intervals
log = logging.getLogger(__name__)


def engine_stuck(pager: Pager) -> str | None:
    last = pager.engine.last_tick
    limit = pager.settings.tick_interval * STALE_TICKS
    if last is None or (pager.clock.now() - last).total_seconds() > limit:
        return f"engine has not ticked in {limit:g}s"
    return None


async def healthz(request: web.Request) -> web.Response:
    pager = pager_of(request)
    stuck = engine_stuck(pager)
    if stuck is not None or pager.engine.last_tick is None:
        return web.json_response({"status": "unhealthy", "error": stuck}, status=503)
    return web.json_response({"status": "ok", "last_tick": pager.engine.last_tick.isoformat()})


def notifier_problem(pager: Pager) -> str | None:
    return pager.notifier.failure if isinstance(pager.notifier, Deferred) else None


async def database_problem(pager: Pager) -> str | None:
    try:
        await probe_write(pager.db, pager.clock.now())
    except UNAVAILABLE as exc:
        if unreachable(exc):
            return "database unreachable"
        reason = exc.orig if isinstance(exc, DBAPIError) else exc
        log.warning("database does not take writes: %s", reason)
        return f"database does not take writes: {reason}"
    return None


async def readyz(request: web.Request) -> web.Response:
    pager = pager_of(request)
    problems = [] if pager.policies.loaded else ["no policy loaded"]
    for problem in (await database_problem(pager), engine_stuck(pager), notifier_problem(pager)):
        if problem is not None:
            problems.append(problem)
    if problems:
        return web.json_response({"status": "not ready", "error": "; ".join(problems)}, status=503)
    return web.json_response({"status": "ready"})


async def metrics(request: web.Request) -> web.Response:
    pager = pager_of(request)
    await refresh_open(pager)
    body = pager.metrics.render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def refresh_open(pager: Pager) -> None:
    """pager_incidents_open, counted when scraped: a GROUP BY over the open
    incidents is too dear for every engine tick (100,000 open incidents), and
    nobody reads the gauge in between. A database that does not answer leaves
    the last counts (its own series say why)."""
    try:
        async with pager.db.read() as session:
            pager.metrics.set_open(await open_counts(session))
    except UNAVAILABLE as exc:
        log.warning("open incidents not counted: %s", exc)


async def reload_policies(pager: Pager) -> list[str]:
    errors = await pager.policies.reload()
    pager.metrics.policy_reload_ok.set(1 if not errors else 0)
    if not errors:
        pager.metrics.precreate(tuple(pager.policies.active.policy.priorities))
        pager.engine.heartbeats.declare(pager.clock.now())  # new ones count from now
    return [str(e) for e in errors]


async def reload(request: web.Request) -> web.Response:
    pager = pager_of(request)
    check_token(request, pager.settings.api_token)
    errors = await reload_policies(pager)
    if errors:
        raise ApiError(400, "policy not reloaded, the running one is kept: " + "; ".join(errors))
    return json_response({"status": "reloaded", "policy_version": pager.policies.active.version_id})
