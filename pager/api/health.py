"""Liveness, readiness, metrics and policy reload."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from pager.http import ApiError, check_token, json_response
from pager.services import Pager, pager_of

STALE_TICKS = 3  # /healthz fails when the engine has not ticked in 3 intervals


async def healthz(request: web.Request) -> web.Response:
    pager = pager_of(request)
    last = pager.engine.last_tick
    limit = pager.settings.tick_interval * STALE_TICKS
    if last is None or (pager.clock.now() - last).total_seconds() > limit:
        return web.json_response(
            {"status": "unhealthy", "error": f"engine has not ticked in {limit:g}s"}, status=503
        )
    return web.json_response({"status": "ok", "last_tick": last.isoformat()})


async def readyz(request: web.Request) -> web.Response:
    pager = pager_of(request)
    problems = []
    if not pager.policies.loaded:
        problems.append("no policy loaded")
    if not await pager.db.ping():
        problems.append("database unreachable")
    if problems:
        return web.json_response({"status": "not ready", "error": "; ".join(problems)}, status=503)
    return web.json_response({"status": "ready"})


async def metrics(request: web.Request) -> web.Response:
    body = pager_of(request).metrics.render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


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
