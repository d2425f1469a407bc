"""The self-alerting rules: valid for Prometheus, tested, and on the contract.

promtool (Debian package `prometheus`, installed by
.ci/install-deploy-tools.sh) checks the syntax and runs the unit tests in
deploy/prometheus/pager.rules.test.yml. A missing promtool fails the tests:
it is never a reason to skip.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "pager.rules.yml"
RULE_TESTS = ROOT / "deploy" / "prometheus" / "pager.rules.test.yml"
CHART_COPY = ROOT / "helm" / "pager" / "files" / "pager.rules.yml"

# The metric names of the contract (shared/design/contract.md, "Metrics").
CONTRACT_METRICS = {
    "pager_alerts_received_total",
    "pager_webhook_rejected_total",
    "pager_incidents_opened_total",
    "pager_incidents_open",
    "pager_notifications_total",
    "pager_escalations_total",
    "pager_time_to_ack_seconds",
    "pager_time_to_resolve_seconds",
    "pager_page_latency_seconds",
    "pager_escalation_lateness_seconds",
    "pager_engine_last_tick_timestamp_seconds",
    "pager_policy_last_reload_successful",
    "pager_heartbeat_last_seen_timestamp_seconds",
}
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
REQUIRED_ALERTS = {
    "PagerDown",
    "PagerEngineStuck",
    "PagerEscalationsLate",
    "PagerNotificationFailureRatioHigh",
    "PagerPolicyReloadFailed",
    "PagerHeartbeatMissing",
}


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("promtool")
    if exe is None:
        pytest.fail(
            "promtool not found: run .ci/install-deploy-tools.sh (apt-get install prometheus)"
        )
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=60, check=False)


def rules() -> list[dict[str, Any]]:
    doc = yaml.safe_load(RULES.read_text())
    return [rule for group in doc["groups"] for rule in group["rules"]]


def metric_names(expr: str) -> set[str]:
    """Every pager_* series an expression reads, histogram suffixes removed."""
    names = set()
    for name in re.findall(r"\bpager_[a-z0-9_]+", expr):
        for suffix in HISTOGRAM_SUFFIXES:
            if name.endswith(suffix) and name.removesuffix(suffix) in CONTRACT_METRICS:
                name = name.removesuffix(suffix)
        names.add(name)
    return names


def test_promtool_accepts_the_rules() -> None:
    result = promtool("check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_rejects_a_broken_rule(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(RULES.read_text().replace("> 60", "> > 60", 1))
    assert promtool("check", "rules", str(broken)).returncode != 0


def test_rule_unit_tests_pass() -> None:
    result = promtool("test", "rules", str(RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_required_alerts_exist() -> None:
    assert {rule["alert"] for rule in rules()} >= REQUIRED_ALERTS


def test_rules_read_only_contract_metrics() -> None:
    used = set().union(*(metric_names(rule["expr"]) for rule in rules()))
    assert used, "no pager metric found: the extraction is broken"
    assert used <= CONTRACT_METRICS


def test_metric_name_check_can_fail() -> None:
    assert metric_names("rate(pager_made_up_total[5m])") == {"pager_made_up_total"}
    assert metric_names("pager_escalation_lateness_seconds_bucket") == {
        "pager_escalation_lateness_seconds"
    }


def test_outcomes_and_reasons_are_ones_pager_reports() -> None:
    from pager import metrics

    exprs = " ".join(rule["expr"] for rule in rules())
    for label, known in (("outcome", metrics.NOTIFY_OUTCOMES), ("reason", metrics.REJECT_REASONS)):
        for regex in re.findall(label + r'=~"([^"]+)"', exprs):
            assert set(regex.split("|")) <= set(known), f"{label} values {regex} vs {known}"


@pytest.mark.parametrize("rule", rules(), ids=lambda r: r["alert"])
def test_every_alert_has_severity_summary_and_runbook(rule: dict[str, Any]) -> None:
    assert rule["labels"]["severity"] in {"critical", "warning"}
    assert rule["annotations"]["summary"]
    anchor = rule["annotations"]["runbook_url"].partition("#")[2]
    assert anchor == "runbook-" + rule["alert"].lower()
    assert f'<a id="{anchor}"></a>' in (ROOT / "docs" / "deploy.md").read_text()


def test_chart_copy_is_identical() -> None:
    assert CHART_COPY.read_bytes() == RULES.read_bytes(), (
        "cp deploy/prometheus/pager.rules.yml helm/pager/files/pager.rules.yml"
    )
