"""/healthz follows the engine, /readyz the database; a database that really
goes away (PostgreSQL behind a cut TCP proxy) gives 503s, and Alertmanager's
retries deliver every alert once it is back."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import SHARED
from tests.e2e.alertmanager import Alertmanager
from tests.fakes.tcp_proxy import TcpProxy
from tests.harness import WEBHOOK_TOKEN, Harness
from tests.polling import eventually
from tests.scenario.policies import BASE

AM = "/api/v1/alerts/alertmanager"
EXAMPLE = json.loads((SHARED / "alertmanager" / "example-firing.json").read_text())


async def status(h: Harness, path: str) -> tuple[int, dict[str, Any]]:
    resp = await h.client.get(path)
    return resp.status, await resp.json()


# --- liveness: the engine -------------------------------------------------------


async def test_healthz_follows_the_engine_ticks(make_harness):
    h = await make_harness(BASE, tick_interval=5)
    assert (await status(h, "/healthz"))[0] == 503  # never ticked yet
    await h.settle()
    assert (await status(h, "/healthz"))[0] == 200

    h.clock.advance(timedelta(seconds=15))  # 3 intervals: still alive
    assert (await status(h, "/healthz"))[0] == 200
    h.clock.advance(timedelta(seconds=1))  # the engine stopped: no tick for > 3 intervals
    code, body = await status(h, "/healthz")
    assert code == 503
    assert "15s" in body["error"]

    await h.pager.engine.tick()
    assert (await status(h, "/healthz"))[0] == 200


# --- readiness and webhooks: PostgreSQL that goes away ----------------------------


@pytest.fixture
async def behind_proxy(cuttable) -> tuple[Harness, TcpProxy]:
    """The real app on PostgreSQL reached only through a TCP proxy the test can cut."""
    started: tuple[Harness, TcpProxy] = await cuttable(BASE)
    return started


def rejected(h: Harness, reason: str) -> float:
    value = h.pager.metrics.registry.get_sample_value(
        "pager_webhook_rejected_total", {"reason": reason}
    )
    return value or 0.0


@pytest.mark.postgres
async def test_readyz_503_while_the_database_is_away(behind_proxy):
    h, proxy = behind_proxy
    assert await status(h, "/readyz") == (200, {"status": "ready"})
    proxy.cut()
    code, body = await status(h, "/readyz")
    assert code == 503
    assert body["error"] == "database unreachable"
    proxy.restore()
    assert (await status(h, "/readyz"))[0] == 200


@pytest.mark.postgres
async def test_webhook_503_while_the_database_is_away_then_accepted(behind_proxy):
    h, proxy = behind_proxy
    proxy.cut()
    resp = await h.client.post(
        AM, data=json.dumps(EXAMPLE), headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}"}
    )
    assert resp.status == 503
    assert (await resp.json()) == {"error": "database unavailable, try again later"}
    assert rejected(h, "unavailable") == 1

    proxy.restore()
    answer = await h.post(AM, EXAMPLE, token=WEBHOOK_TOKEN)  # the sender's retry
    [incident_id] = answer["incidents"]
    assert len((await h.incident(incident_id))["alerts"]) == 2


@pytest.mark.postgres
@pytest.mark.alertmanager
async def test_alertmanager_retries_until_the_database_is_back(behind_proxy):
    h, proxy = behind_proxy
    am = await Alertmanager.start(str(h.client.make_url(AM)), WEBHOOK_TOKEN, "--group-wait", "0s")
    try:
        proxy.cut()
        fps = {
            await am.fire("alertname=DiskFull", f"instance=db{n}", "severity=critical")
            for n in (1, 2)
        }
        await eventually(lambda: _at_least(h, 2))  # refused twice: Alertmanager retried
        assert (await h.get("/api/v1/incidents", status=503))["error"]
        proxy.restore()
        found = await eventually(lambda: _alerts(h, fps))
        assert len(found) == 1  # one incident, both alerts, nothing lost or doubled
    finally:
        await am.stop()


async def _at_least(h: Harness, n: int) -> bool:
    return rejected(h, "unavailable") >= n


async def _alerts(h: Harness, fingerprints: set[str]) -> list[dict[str, Any]] | None:
    found = (await h.get("/api/v1/incidents"))["incidents"]
    got = set()
    for incident in found:
        got |= {a["fingerprint"] for a in (await h.incident(incident["id"]))["alerts"]}
    return found if got == fingerprints else None
