"""Heartbeat pings: `POST /api/v1/heartbeats/{name}` and Alertmanager's Watchdog.

Guarantees:
* A ping is answered 200 only after it is committed; 404 names a heartbeat
  the running policy does not declare; 401/503 as for the alert webhooks.
* An Alertmanager alert that a rule with `heartbeat:` matches is a ping, never
  an incident (`pager.engine.pings`, inside the webhook's transaction).
* A ping ends the heartbeat's silence: the incident opened for it resolves.
"""

from __future__ import annotations

import logging
from datetime import datetime

from aiohttp import web
from sqlalchemy.exc import IntegrityError

from pager.core.heartbeat import declared
from pager.edge import ApiError, check_token, json_response
from pager.engine.pings import Pings
from pager.services import Pager, pager_of
from pager.store.heartbeats import record_ping

log = logging.getLogger(__name__)


def pinged(pager: Pager, pings: Pings, now: datetime) -> None:
    """After commit: the gauge, and the engine woken for resolve notices."""
    for name in pings.names:
        pager.metrics.heartbeat_last_seen.labels(name).set(now.timestamp())
    for incident_id in pings.resolved:
        log.info("heartbeat back, incident resolved", extra={"incident_id": incident_id})
    if pings.resolved:
        pager.engine.wake()


async def ping(request: web.Request) -> web.Response:
    pager = pager_of(request)
    check_token(request, pager.settings.webhook_token)
    if not pager.policies.loaded:
        raise ApiError(503, "no policy loaded yet", "unavailable")
    name = request.match_info["name"]
    if name not in {b.name for b in declared(pager.policies.active.policy)}:
        raise ApiError(404, f"no heartbeat {name!r} in the policy")
    now = pager.clock.now()
    resolved = await _record(pager, name, now)
    pager.metrics.alerts_received.labels("heartbeat", "firing").inc()
    pinged(pager, Pings(names=[name], resolved=[resolved] if resolved else []), now)
    return json_response(
        {
            "status": "ok",
            "heartbeat": name,
            "last_seen": now.isoformat(),
            "incidents_resolved": [resolved] if resolved else [],
        }
    )


async def _record(pager: Pager, name: str, now: datetime) -> int | None:
    for attempt in range(2):  # a replica may create the row at the same moment
        try:
            async with pager.db.write() as session:
                return await record_ping(session, name, now)
        except IntegrityError:
            if attempt:
                raise
    return None
