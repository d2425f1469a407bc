"""Policy reload: a broken policy keeps the running one, says every error, and
flips pager_policy_last_reload_successful; a fixed one flips it back. Also
through SIGHUP to a real `pager serve`."""

from __future__ import annotations

import logging

from tests.harness import Harness, write_policy
from tests.observability.daemon import Daemon, eventually_metric
from tests.scenario.policies import BASE

# Two mistakes at once: an unknown escalation policy and a bad duration.
BROKEN = BASE.replace("escalation: gappy", "escalation: nowhere").replace(
    "ack_timeout: 10m", "ack_timeout: 10 minutes"
)
# Valid, but critical alerts become P2 and a heartbeat appears.
CHANGED = (
    BASE.replace("priority: P1\n    escalation: platform", "priority: P2\n    escalation: platform")
    + """
heartbeats:
  - {name: nightly, expect_every: 1d, priority: P2, escalation: platform}
"""
)
RELOAD_OK = "pager_policy_last_reload_successful"


def reload_ok(h: Harness) -> float | None:
    return h.pager.metrics.registry.get_sample_value(RELOAD_OK)


async def test_broken_policy_keeps_the_old_one_and_a_fixed_one_applies(
    make_harness, tmp_path, caplog
):
    h = await make_harness(BASE)
    assert reload_ok(h) == 1
    write_policy(tmp_path / "policies", BROKEN)
    with caplog.at_level(logging.ERROR, logger="pager.policy.runtime"):
        answer = await h.post("/-/reload", status=400)
    assert "running one is kept" in answer["error"]
    assert "nowhere" in answer["error"]
    assert "10 minutes" in answer["error"]
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any("nowhere" in e for e in errors)
    assert any("10 minutes" in e for e in errors)
    assert reload_ok(h) == 0

    old = await h.fire("alertname=Down", "severity=critical")
    assert (await h.incident(old))["priority"] == "P1"  # still the old rules

    write_policy(tmp_path / "policies", CHANGED)
    answer = await h.post("/-/reload")
    assert answer["status"] == "reloaded"
    assert reload_ok(h) == 1
    new = await h.fire("alertname=Slow", "severity=critical")
    assert (await h.incident(new))["priority"] == "P2"
    assert (await h.incident(old))["priority"] == "P1"  # a running incident keeps its own
    assert (
        h.pager.metrics.registry.get_sample_value(
            "pager_heartbeat_last_seen_timestamp_seconds", {"name": "nightly"}
        )
        == 0
    )


async def test_sighup_reloads_a_running_daemon(tmp_path):
    daemon = await Daemon.start(tmp_path, BASE)
    try:
        await eventually_metric(daemon, RELOAD_OK, "1.0")
        write_policy(tmp_path / "policies", BROKEN)
        daemon.hangup()
        await eventually_metric(daemon, RELOAD_OK, "0.0")

        write_policy(tmp_path / "policies", CHANGED)
        daemon.hangup()
        await eventually_metric(daemon, RELOAD_OK, "1.0")
        name = 'pager_heartbeat_last_seen_timestamp_seconds{name="nightly"}'
        await eventually_metric(daemon, name, "0.0")  # the new policy is the running one
    finally:
        output = daemon.stop()
    assert "nowhere" in output  # every error of the broken policy was logged
    assert "10 minutes" in output
