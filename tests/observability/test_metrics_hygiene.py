"""/metrics as a scrape sees it (issue 15): no `_created` series, the process and
platform collectors on pager's own registry, `pager_build_info{version}`,
the engine steps' timings, promtool's lint clean, and Alertmanager's
`truncatedAlerts` counted and logged once a webhook is committed (a refused
or bad one counts nothing)."""

from __future__ import annotations

import asyncio
import logging
import shutil
from asyncio.subprocess import PIPE, STDOUT
from importlib import metadata
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from pager.metrics import ENGINE_STEPS
from tests.harness import Harness
from tests.ingest.test_webhook_bad_input import EXAMPLE, _am, _set, post
from tests.ingest.test_webhook_errors import rejected, rows
from tests.scenario.policies import BASE

SQLITE_ONLY = pytest.mark.parametrize("db_kind", ["sqlite"])  # about /metrics, not the database
TRUNCATED = "pager_alertmanager_truncated_alerts_total"


async def scrape(h: Harness) -> str:
    resp = await h.client.get("/metrics")
    assert resp.status == 200
    return await resp.text()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


@SQLITE_ONLY
async def test_no_created_series_and_the_standard_collectors_are_there(make_harness) -> None:
    h = await make_harness(BASE)
    await h.fire("alertname=Down", "severity=critical")
    await h.settle()  # counters and histograms that have moved, too
    h.notifier.expect("alice", "sms", "Down")
    text = await scrape(h)
    names = {name for name, _ in samples(text)}
    assert not [n for n in names if n.endswith("_created")]
    assert "_created" not in text
    for wanted in (
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_start_time_seconds",
        "python_info",
        "python_gc_collections_total",
    ):
        assert wanted in names, wanted


@SQLITE_ONLY
async def test_build_info_names_the_running_version(make_harness) -> None:
    h = await make_harness(BASE)
    found = samples(await scrape(h))
    builds = {labels: v for (name, labels), v in found.items() if name == "pager_build_info"}
    assert builds == {(("version", metadata.version("pager")),): 1.0}


@SQLITE_ONLY
async def test_every_engine_step_is_timed_from_zero(make_harness) -> None:
    h = await make_harness(BASE)
    before = samples(await scrape(h))
    for step in ENGINE_STEPS:
        assert before[("pager_engine_step_duration_seconds_count", (("step", step),))] == 0
        assert before[("pager_engine_step_errors_total", (("step", step),))] == 0
    await h.pager.engine.tick()
    after = samples(await scrape(h))
    for step in ENGINE_STEPS:
        assert after[("pager_engine_step_duration_seconds_count", (("step", step),))] == 1


@SQLITE_ONLY
async def test_promtool_finds_nothing_to_lint(make_harness) -> None:
    exe = shutil.which("promtool")
    if exe is None:
        pytest.fail(
            "promtool not found: run .ci/install-deploy-tools.sh (apt-get install prometheus)"
        )
    h = await make_harness(BASE)
    await h.fire("alertname=Down", "severity=critical")
    await h.settle()
    h.notifier.expect("alice", "sms", "Down")
    text = await scrape(h)
    lint = await asyncio.create_subprocess_exec(
        exe, "check", "metrics", stdin=PIPE, stdout=PIPE, stderr=STDOUT
    )
    out, _ = await asyncio.wait_for(lint.communicate(text.encode()), timeout=60)
    assert (lint.returncode, out.decode()) == (0, "")


def _truncated(n: Any) -> bytes:
    return _am(_set(("truncatedAlerts",), n))


async def test_truncated_alerts_are_counted_and_logged_once_committed(make_harness, caplog) -> None:
    h = await make_harness(BASE)
    assert samples(await scrape(h))[(TRUNCATED, ())] == 0
    with caplog.at_level(logging.WARNING, logger="pager.ingest.handlers"):
        assert (await post(h, _truncated(7)))[0] == 200
        assert (await post(h, _truncated(0)))[0] == 200  # a whole group: nothing to say
        assert (await post(h, _truncated(3)))[0] == 200
    assert samples(await scrape(h))[(TRUNCATED, ())] == 10
    cut = [r for r in caplog.records if "cut a group" in r.getMessage()]
    assert [r.truncated_alerts for r in cut] == [7, 3]
    assert {r.group_key for r in cut} == {EXAMPLE["groupKey"]}
    assert {r.levelno for r in cut} == {logging.WARNING}
    assert "7 alerts" in cut[0].getMessage()


async def test_a_refused_webhook_counts_no_truncated_alerts(make_harness) -> None:
    h = await make_harness(BASE)
    resp = await h.client.post(
        "/api/v1/alerts/alertmanager", data=_truncated(5), headers={"Authorization": "Bearer no"}
    )
    assert resp.status == 401
    assert h.pager.metrics.registry.get_sample_value(TRUNCATED) == 0
    assert await rows(h) == (0, 0, 0)


@pytest.mark.parametrize(
    "value",
    [-1, 2**64, 1.5, "7", True, None],
    ids=["negative", "past-uint64", "fraction", "string", "bool", "null"],
)
async def test_a_truncated_alerts_that_is_no_count_is_a_400(make_harness, value) -> None:
    h = await make_harness(BASE)
    status, body = await post(h, _truncated(value))
    assert status == 400
    assert body["error"].startswith("truncatedAlerts: "), body
    assert await rows(h) == (0, 0, 0)
    assert rejected(h, "malformed") == 1
    assert h.pager.metrics.registry.get_sample_value(TRUNCATED) == 0


async def test_the_largest_count_alertmanager_can_send_is_taken(make_harness) -> None:
    h = await make_harness(BASE)
    assert (await post(h, _truncated(2**64 - 1)))[0] == 200
    assert h.pager.metrics.registry.get_sample_value(TRUNCATED) == float(2**64 - 1)
