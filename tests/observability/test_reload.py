"""Policy reload: a broken policy keeps the running one, says every error, and
flips pager_policy_last_reload_successful; a fixed one flips it back. Also
through SIGHUP to a real `pager serve`."""

from __future__ import annotations

import asyncio
import logging
import threading

from pager.engine import policy_runtime as runtime
from pager.policy.loader import load_policy
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
    with caplog.at_level(logging.ERROR, logger="pager.engine.policy_runtime"):
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


async def test_a_reload_parses_off_the_event_loop(make_harness, monkeypatch):
    """Issue 12: a 5 MB policy held the loop for 16 s. The load waits for a task that
    only the loop can run, so on the loop it would wait out its guard and fail."""
    h = await make_harness(BASE)
    loop_ran = threading.Event()
    seen: dict[str, object] = {}
    real = load_policy

    def load(directory):
        seen["thread"] = threading.current_thread()
        seen["loop_ran"] = loop_ran.wait(timeout=30)  # a guard against hanging, not a timing
        return real(directory)

    monkeypatch.setattr(runtime, "load_policy", load)
    reload = asyncio.create_task(h.pager.policies.reload())
    await asyncio.sleep(0)  # let the reload start
    loop_ran.set()  # the loop is free: this coroutine runs while the policy loads
    assert await reload == ()
    assert seen == {"thread": seen["thread"], "loop_ran": True}
    assert seen["thread"] is not threading.main_thread()


async def test_a_policy_that_used_to_crash_the_loader_is_a_400_on_reload(make_harness):
    """A NUL, 5,000 brackets and 1000000000d raised (500, a traceback); now file:line errors."""
    h = await make_harness(BASE)
    directory = h.pager.settings.policies
    broken = {
        "people:\n  - id: a\x00b\n": "policy.yaml:38: invalid YAML: character U+0000",
        "x: " + "[" * 5000 + "]" * 5000 + "\n": "policy.yaml:37: invalid YAML: nested more than",
        "": "out of range",
    }
    for tail, fragment in broken.items():
        text = BASE + tail if tail else BASE.replace("ack_timeout: 5m", "ack_timeout: 1000000000d")
        write_policy(directory, text)
        body = await h.post("/-/reload", status=400)
        assert fragment in body["error"]
        assert reload_ok(h) == 0
    write_policy(directory, BASE)
    assert (await h.post("/-/reload"))["status"] == "reloaded"
