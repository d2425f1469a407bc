"""Every ack, resolve, escalation and update records where it came from (`via`)."""

from __future__ import annotations

import asyncio

from pager.commands.client import Client
from tests.harness import API_TOKEN, WEBHOOK_TOKEN
from tests.scenario.policies import BASE

CRITICAL = ("alertname=ApiDown", "severity=critical", "service=api")


async def test_a_resolved_alertmanager_notification_is_recorded_via_alertmanager(make_harness):
    h = await make_harness(BASE)
    incident = await h.fire(*CRITICAL)
    await h.fire(*CRITICAL, status="resolved")
    assert await h.via(incident, "resolved") == ["alertmanager"]


async def test_a_resolve_by_the_generic_webhook_is_recorded_via_generic(make_harness):
    h = await make_harness(BASE)
    alert = {"summary": "backup failed", "labels": {"severity": "critical"}, "dedup_key": "b"}
    opened = await h.post("/api/v1/alerts", alert, token=WEBHOOK_TOKEN)
    await h.post("/api/v1/alerts", {**alert, "status": "resolved"}, token=WEBHOOK_TOKEN)
    [incident] = opened["incidents"]
    assert await h.via(incident, "resolved") == ["generic"]


async def test_the_api_and_the_cli_client_are_told_apart(make_harness):
    h = await make_harness(BASE)
    first, second = await h.fire(*CRITICAL), await h.fire("alertname=Other", "severity=critical")
    await h.post(f"/api/v1/incidents/{first}/ack", {"by": "alice"})
    await h.post(f"/api/v1/incidents/{first}/escalate", {"by": "alice"})
    await h.post(f"/api/v1/incidents/{first}/updates", {"text": "looking"}, status=201)
    cli = Client(str(h.client.make_url("")).rstrip("/"), API_TOKEN)
    await asyncio.to_thread(cli.post, f"/api/v1/incidents/{second}/resolve", {"by": "bob"})
    assert await h.via(first, "acknowledged") == ["api"]
    assert await h.via(first, "escalate_requested") == ["api"]
    assert await h.via(first, "status_update") == ["api"]
    assert await h.via(second, "resolved") == ["cli"]
