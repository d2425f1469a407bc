"""pager's metrics as a real Prometheus sees them.

A Prometheus server (Debian package `prometheus`) scrapes the real app every
second; the test scripts an incident (opened, paged, acknowledged) and reads
the series back through Prometheus's HTTP API. The rule file itself is
checked by promtool in tests/deploy/test_prometheus_rules.py.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from pager.actions import act
from pager.core.alert import AlertIn
from pager.store import incidents as store
from tests.deploy.test_prometheus_rules import CONTRACT_METRICS
from tests.harness import Harness
from tests.observability.daemon import free_port
from tests.polling import eventually
from tests.scenario.policies import BASE

HISTOGRAMS = {
    "pager_time_to_ack_seconds",
    "pager_time_to_resolve_seconds",
    "pager_page_latency_seconds",
    "pager_escalation_lateness_seconds",
}


class Prometheus:
    def __init__(self, proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
        self.proc, self.url, self.log = proc, url, log

    @classmethod
    async def start(cls, tmp_path: Path, target: str) -> Prometheus:
        exe = shutil.which("prometheus")
        if exe is None:
            pytest.fail("prometheus not found: run .ci/install-deploy-tools.sh")
        config = tmp_path / "prometheus.yml"
        config.write_text(
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
            "scrape_configs:\n"
            f"  - {{job_name: pager, static_configs: [{{targets: ['{target}']}}]}}\n"
        )
        port = free_port()
        log = tmp_path / "prometheus.log"
        args = [
            exe,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ]
        prom = cls(_spawn(args, log), f"http://127.0.0.1:{port}", log)
        await eventually(prom._ready, within=20, what="prometheus ready")
        return prom

    async def _ready(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"prometheus exited: {self.log.read_text()}")
        try:
            async with aiohttp.ClientSession() as s, s.get(self.url + "/-/ready") as resp:
                return resp.status == 200
        except aiohttp.ClientError:
            return False

    async def query(self, expr: str) -> dict[str, float]:
        """Instant query: {"label=value,...": value}."""
        async with (
            aiohttp.ClientSession() as s,
            s.get(self.url + "/api/v1/query", params={"query": expr}) as resp,
        ):
            body = await resp.json()
        assert body["status"] == "success", body
        return {
            ",".join(f"{k}={v}" for k, v in sorted(r["metric"].items())): float(r["value"][1])
            for r in body["data"]["result"]
        }

    async def value(self, expr: str) -> float | None:
        found = await self.query(expr)
        assert len(found) <= 1, found
        return next(iter(found.values()), None)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _spawn(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
        )


@pytest.fixture
async def scraped(make_harness, tmp_path) -> AsyncIterator[tuple[Harness, Prometheus]]:
    h = await make_harness(BASE)
    url = h.client.make_url("/")
    prom = await Prometheus.start(tmp_path, f"{url.host}:{url.port}")
    try:
        yield h, prom
    finally:
        prom.stop()


@pytest.mark.parametrize("db_kind", ["sqlite"])  # about Prometheus, not the database
async def test_prometheus_scrapes_the_contract_series(scraped):
    h, prom = scraped
    incident = await h.fire("alertname=Down", "severity=critical")
    await h.settle()
    h.notifier.expect("alice", "sms", "Down")
    await h.fast_forward(seconds=90)
    h.notifier.expect("alice", "voice")  # her second channel, after 1m
    await h.post(f"/api/v1/incidents/{incident}/ack", {"by": "alice"})
    await h.settle()
    h.notifier.assert_no_more()

    ack_count = 'pager_time_to_ack_seconds_count{job="pager",priority="P1"}'
    await eventually(lambda: _equals(prom, ack_count, 1), within=20, what="the ack in a scrape")

    assert await prom.value('up{job="pager"}') == 1
    assert await prom.value('pager_incidents_opened_total{priority="P1"}') == 1
    assert await prom.value('pager_incidents_opened_total{priority="P2"}') == 0
    sent = await prom.value('pager_notifications_total{channel="sms",outcome="sent"}')
    assert sent is not None
    assert sent >= 1
    assert await prom.value('pager_time_to_ack_seconds_sum{priority="P1"}') == 90
    assert await prom.value('pager_time_to_ack_seconds_bucket{priority="P1",le="60.0"}') == 0
    assert await prom.value('pager_time_to_ack_seconds_bucket{priority="P1",le="120.0"}') == 1
    assert await prom.value('pager_incidents_open{priority="P1",state="acknowledged"}') == 1
    assert await prom.value('pager_incidents_open{priority="P1",state="triggered"}') == 0
    assert await prom.value('pager_escalations_total{priority="P1"}') == 1
    assert (
        await prom.value('pager_alerts_received_total{source="alertmanager",status="firing"}') == 1
    )
    assert await prom.value('pager_webhook_rejected_total{reason="unauthorized"}') == 0
    assert await prom.value("pager_policy_last_reload_successful") == 1
    # Alert to the incident's first page only (issue 14): the SMS, not the call at 1m.
    assert await prom.value("pager_page_latency_seconds_count") == 1
    assert await prom.value("pager_notification_lateness_seconds_count") == 2  # both pages
    assert await prom.value("pager_engine_last_tick_timestamp_seconds") == h.clock.now().timestamp()

    names = await prom.query('count by (__name__) ({job="pager", __name__=~"pager_.+"})')
    present = {key.removeprefix("__name__=") for key in names}
    for name in CONTRACT_METRICS - {"pager_heartbeat_last_seen_timestamp_seconds"}:
        wanted = f"{name}_count" if name in HISTOGRAMS else name
        assert wanted in present, f"{wanted} not scraped"


async def _equals(prom: Prometheus, expr: str, value: float) -> bool:
    return await prom.value(expr) == value


# --- the exposition itself, without a Prometheus ---------------------------------


async def exposition(h: Harness) -> dict[str, list[Any]]:
    resp = await h.client.get("/metrics")
    assert resp.status == 200
    families = text_string_to_metric_families(await resp.text())
    return {f.name: f.samples for f in families}


async def test_every_contract_series_exists_at_zero_before_any_event(make_harness):
    from tests.observability.policies import HEARTBEATS

    h = await make_harness(HEARTBEATS)
    found = await exposition(h)
    samples = {s.name: s for family in found.values() for s in family}
    for name in CONTRACT_METRICS:
        wanted = f"{name}_count" if name in HISTOGRAMS else name
        assert wanted in samples, f"{wanted} is not pre-created"
    values = {(s.name, tuple(sorted(s.labels.items()))): s.value for f in found.values() for s in f}
    assert values[("pager_incidents_opened_total", (("priority", "P1"),))] == 0
    assert values[("pager_notifications_total", (("channel", "voice"), ("outcome", "sent")))] == 0
    assert values[("pager_time_to_ack_seconds_count", (("priority", "P2"),))] == 0
    assert values[("pager_incidents_open", (("priority", "P2"), ("state", "triggered")))] == 0
    assert values[("pager_heartbeat_last_seen_timestamp_seconds", (("name", "backup"),))] == 0
    assert values[("pager_heartbeat_last_seen_timestamp_seconds", (("name", "Watchdog"),))] == 0
    assert values[("pager_policy_last_reload_successful", ())] == 1


def test_histogram_buckets_fit_their_quantities() -> None:
    from pager.metrics import HUMAN_BUCKETS, MACHINE_BUCKETS

    assert HUMAN_BUCKETS[0] <= 30  # people: half a minute ...
    assert HUMAN_BUCKETS[-1] >= 24 * 3600  # ... to a day
    assert MACHINE_BUCKETS[0] <= 0.01  # the machine: milliseconds ...
    assert MACHINE_BUCKETS[-1] >= 30  # ... to a stuck provider call
    assert list(HUMAN_BUCKETS) == sorted(HUMAN_BUCKETS)
    assert list(MACHINE_BUCKETS) == sorted(MACHINE_BUCKETS)


async def test_drills_stay_out_of_time_to_ack_and_resolve(make_harness):
    from pager.core.via import Via
    from pager.ingest.handlers import ingest

    h = await make_harness(BASE)
    drill = AlertIn("d1", "firing", {"alertname": "Drill", "severity": "critical"}, {}, "drill")
    [incident_id] = (await ingest(h.pager, [drill], drill=True)).opened
    await h.fast_forward(minutes=1)
    h.notifier.expect_each(("alice", "sms", "[DRILL] [P1] #1"), ("alice", "voice", "a drill"))
    assert await act(h.pager, incident_id, store.acknowledge, "alice", Via.API)  # and resolves
    assert (await h.incident(incident_id))["state"] == "resolved"
    registry = h.pager.metrics.registry
    for name in ("pager_time_to_ack_seconds_count", "pager_time_to_resolve_seconds_count"):
        assert registry.get_sample_value(name, {"priority": "P1"}) == 0
    assert registry.get_sample_value("pager_incidents_opened_total", {"priority": "P1"}) == 0

    real = await h.fire("alertname=Down", "severity=critical")  # the check can fail
    assert await act(h.pager, real, store.acknowledge, "alice", Via.API)
    assert registry.get_sample_value("pager_time_to_ack_seconds_count", {"priority": "P1"}) == 1
