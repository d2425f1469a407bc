"""Alert webhooks: Alertmanager (payload version 4) and the generic JSON form.

A 2xx answer means the alerts are committed. Anything rejected (bad token,
bad body, too large, database away) changes nothing and says why.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiohttp import web

from pager.core.alert import AlertIn
from pager.edge import ApiError, check_token, json_response, read_body
from pager.engine.alert_writer import WriterClosed
from pager.ingest import heartbeat
from pager.ingest.payloads import PayloadError, Webhook, read_alertmanager, read_generic
from pager.services import Pager, pager_of
from pager.store.incidents import IngestResult

log = logging.getLogger(__name__)


async def alertmanager(request: web.Request) -> web.Response:
    return await _ingest(request, read_alertmanager, "alertmanager")


async def generic(request: web.Request) -> web.Response:
    return await _ingest(request, read_generic, "generic")


async def _ingest(
    request: web.Request, parse: Callable[[bytes], Webhook], source: str
) -> web.Response:
    pager = pager_of(request)
    check_token(request, pager.settings.webhook_token)
    body = await read_body(request, pager.settings.max_body_bytes)
    try:
        hook = parse(body)
    except PayloadError as exc:
        raise ApiError(400, str(exc), "malformed") from None
    if not pager.policies.loaded:
        raise ApiError(503, "no policy loaded yet", "unavailable")
    result = await ingest(pager, hook.alerts)
    firing = sum(1 for alert in hook.alerts if alert.status == "firing")
    # One label lookup per status, not per alert (prometheus_client's are slow).
    for status, count in (("firing", firing), ("resolved", len(hook.alerts) - firing)):
        if count:
            pager.metrics.alerts_received.labels(source, status).inc(count)
    if hook.truncated:
        _cut(pager, hook)
    return json_response(
        {
            "status": "ok",
            "incidents_opened": result.opened,
            "incidents_resolved": result.resolved,
            "incidents": sorted(result.touched),
        }
    )


def _cut(pager: Pager, hook: Webhook) -> None:
    """Counted once the webhook is committed: a refused one is sent again, and
    would be counted twice. The alerts left out are not seen by pager at all."""
    pager.metrics.alertmanager_truncated.inc(hook.truncated)
    log.warning(
        "Alertmanager cut a group: %d alerts of group %s were left out of its webhook "
        "(max_alerts in its receiver's webhook_config)",
        hook.truncated,
        hook.group_key[:200],
        extra={"group_key": hook.group_key[:200], "truncated_alerts": hook.truncated},
    )


async def ingest(pager: Pager, alerts: list[AlertIn], *, drill: bool = False) -> IngestResult:
    """Record alerts (with the webhooks queued beside them: `pager.engine.alert_writer`);
    returns once they are committed."""
    try:
        recorded = await pager.writer.record(alerts, drill=drill)
    except WriterClosed:
        raise ApiError(503, "pager is shutting down, try again later", "unavailable") from None
    heartbeat.pinged(pager, recorded.pings, recorded.at)
    result = recorded.result
    if not drill:
        for priority in result.opened_priorities:
            pager.metrics.incidents_opened.labels(priority).inc()
    if result.opened or result.resolved:
        pager.engine.wake()
    return result
