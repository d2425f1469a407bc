"""Classification: first matching rule wins, heartbeat rules, the default."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from pager.core.classify import Classification, Classifier, classifier_for, classify
from pager.labels import MatcherError
from pager.policy.model import HeartbeatSpec, Policy


def _policy(*rules: dict[str, Any], default: dict[str, str] | None = None) -> Policy:
    return Policy.model_validate(
        {
            "rules": list(rules),
            "default": default if default is not None else {"priority": "P3", "escalation": "ops"},
        }
    )


CRITICAL = {"matchers": ['severity="critical"'], "priority": "P1", "escalation": "platform"}
STORAGE = {
    "matchers": ['team=~"db|storage"', 'severity=~"warning|critical"'],
    "priority": "P2",
    "escalation": "storage",
    "runbook": "https://runbooks.example.com/storage",
    "group_by": ["cluster"],
}
WATCHDOG = {
    "matchers": ['alertname="Watchdog"'],
    "heartbeat": {"expect_every": "5m", "priority": "P1", "escalation": "platform"},
}


def test_first_matching_rule_wins() -> None:
    policy = _policy(CRITICAL, STORAGE)
    result = classify(policy, {"severity": "critical", "team": "db"})
    assert result == Classification(0, "P1", "platform")


def test_later_rule_when_the_first_does_not_match() -> None:
    policy = _policy(CRITICAL, STORAGE)
    result = classify(policy, {"severity": "warning", "team": "storage"})
    assert result == Classification(
        1, "P2", "storage", "https://runbooks.example.com/storage", ("cluster",)
    )


def test_order_matters() -> None:
    policy = _policy(STORAGE, CRITICAL)
    assert classify(policy, {"severity": "critical", "team": "db"}).rule_index == 0
    assert classify(policy, {"severity": "critical", "team": "web"}).rule_index == 1


def test_default_when_nothing_matches() -> None:
    policy = _policy(CRITICAL, STORAGE)
    assert classify(policy, {"severity": "info"}) == Classification(None, "P3", "ops")
    assert classify(policy, {}) == Classification(None, "P3", "ops")


def test_heartbeat_rule_takes_priority_and_escalation_from_its_spec() -> None:
    policy = _policy(WATCHDOG, CRITICAL)
    result = classify(policy, {"alertname": "Watchdog", "severity": "critical"})
    assert result.rule_index == 0
    assert (result.priority, result.escalation) == ("P1", "platform")
    assert result.heartbeat == HeartbeatSpec(
        expect_every=timedelta(minutes=5), priority="P1", escalation="platform"
    )


def test_ordinary_rules_have_no_heartbeat() -> None:
    assert classify(_policy(CRITICAL), {"severity": "critical"}).heartbeat is None


def test_fields_a_rule_leaves_out_come_from_the_default() -> None:
    policy = _policy({"matchers": ['team="web"'], "escalation": "web"})
    assert classify(policy, {"team": "web"}) == Classification(0, "P3", "web")


def test_classifier_is_built_once_per_policy() -> None:
    policy = _policy(CRITICAL)
    assert classifier_for(policy) is classifier_for(policy)
    assert classifier_for(_policy(CRITICAL)) is not classifier_for(policy)


def test_classifier_needs_a_default_and_valid_matchers() -> None:
    with pytest.raises(ValueError, match="no default"):
        Classifier(Policy())
    with pytest.raises(MatcherError):
        Classifier(_policy({"matchers": ["no operator"], "priority": "P1", "escalation": "x"}))
