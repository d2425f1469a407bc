"""The real Alertmanager posts to pager: incidents open, group and resolve.

Alertmanager runs with group_by alertname,service (as in the README snippet)
and a bearer token, exactly as a user would configure it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.e2e.alertmanager import Alertmanager
from tests.harness import WEBHOOK_TOKEN, Harness
from tests.polling import eventually
from tests.scenario.policies import BASE

pytestmark = pytest.mark.alertmanager


@pytest.fixture
async def pager_and_am(make_harness) -> AsyncIterator[tuple[Harness, Alertmanager]]:
    h = await make_harness(BASE)
    url = str(h.client.make_url("/api/v1/alerts/alertmanager"))
    am = await Alertmanager.start(url, WEBHOOK_TOKEN, "--group-by", "alertname,service")
    yield h, am
    await am.stop()


async def incidents(h: Harness, state: str | None = None) -> list[dict[str, Any]]:
    query = f"?state={state}" if state else ""
    return list((await h.get(f"/api/v1/incidents{query}"))["incidents"])


async def test_fire_group_and_resolve(pager_and_am):
    h, am = pager_and_am
    fp1 = await am.fire(
        "alertname=HighErrorRate",
        "service=checkout",
        "severity=critical",
        "instance=checkout-1",
        summary="High 5xx rate on checkout",
    )
    fp2 = await am.fire(
        "alertname=HighErrorRate",
        "service=checkout",
        "severity=critical",
        "instance=checkout-2",
        summary="High 5xx rate on checkout",
    )
    [incident] = await eventually(lambda: _with_alerts(h, 2))
    assert incident["priority"] == "P1"
    assert incident["title"] == "HighErrorRate checkout"
    assert {a["fingerprint"] for a in incident["alerts"]} == {fp1, fp2}

    await am.fire(
        "alertname=HighErrorRate",
        "service=checkout",
        "severity=critical",
        "instance=checkout-1",
        resolve=True,
    )
    await eventually(lambda: _alert_status(h, incident["id"], fp1, "resolved"))
    assert (await h.incident(incident["id"]))["state"] == "triggered"  # one still firing

    await am.fire(
        "alertname=HighErrorRate",
        "service=checkout",
        "severity=critical",
        "instance=checkout-2",
        resolve=True,
    )
    await eventually(lambda: _state(h, incident["id"], "resolved"))
    kinds = await h.events(incident["id"])
    assert kinds.count("alert_resolved") == 2
    assert kinds[-1] == "resolved"


async def test_same_summary_different_fingerprints_stay_distinct(pager_and_am):
    h, am = pager_and_am
    fp_a = await am.fire(
        "alertname=DiskFull", "service=db", "instance=db1", "severity=warning", summary="Disk full"
    )
    fp_b = await am.fire(
        "alertname=DiskFull", "service=db", "instance=db2", "severity=warning", summary="Disk full"
    )
    assert fp_a != fp_b
    [incident] = await eventually(lambda: _with_alerts(h, 2))
    assert incident["priority"] == "P2"  # the default
    assert sorted(a["fingerprint"] for a in incident["alerts"]) == sorted([fp_a, fp_b])


async def test_two_groups_make_two_incidents(pager_and_am):
    h, am = pager_and_am
    await am.fire("alertname=Latency", "service=api", "severity=critical")
    await am.fire("alertname=Latency", "service=web", "severity=critical")
    found = await eventually(lambda: _count(h, 2))
    assert sorted(i["title"] for i in found) == ["Latency api", "Latency web"]


async def _with_alerts(h: Harness, n: int) -> list[dict[str, Any]] | None:
    found = await incidents(h)
    if len(found) != 1:
        return None
    detail = await h.incident(found[0]["id"])
    return [detail] if len(detail["alerts"]) == n else None


async def _alert_status(h: Harness, incident_id: int, fp: str, status: str) -> bool:
    alerts = (await h.incident(incident_id))["alerts"]
    return any(a["fingerprint"] == fp and a["status"] == status for a in alerts)


async def _state(h: Harness, incident_id: int, state: str) -> bool:
    return bool((await h.incident(incident_id))["state"] == state)


async def _count(h: Harness, n: int) -> list[dict[str, Any]] | None:
    found = await incidents(h)
    return found if len(found) == n else None
