"""Which rule an alert falls under: priority, escalation policy, runbook, grouping.

Guarantees:
* Rules are tried in policy order; the first whose matchers all match wins
  (Alertmanager matcher semantics, see :mod:`pager.labels`). One item of a
  rule's ``matchers`` may hold several (``{a="1",b="2"}``), as in a route.
* A rule gives its own ``priority``/``escalation``; a field it leaves out comes
  from its ``heartbeat:`` spec if it has one, else from the policy ``default``.
* No rule matches: the ``default`` applies (``rule_index`` is None).
* Matchers are parsed once per policy (:class:`Classifier`); classifying is
  then a pure function of the labels, cheap enough for every webhook.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pager.labels import Matcher, matches_all, parse_matchers
from pager.policy.model import HeartbeatSpec, Policy, Rule


@dataclass(frozen=True)
class Classification:
    rule_index: int | None  # index into policy.rules; None: the default applied
    priority: str
    escalation: str
    runbook: str | None = None
    group_by: tuple[str, ...] | None = None  # None: Alertmanager's groupKey
    heartbeat: HeartbeatSpec | None = None  # set: the alert is a heartbeat ping


@dataclass(frozen=True)
class _CompiledRule:
    matchers: tuple[Matcher, ...]
    result: Classification


class Classifier:
    """A policy's rules with their matchers compiled; build one per loaded policy.

    Raises MatcherError if a matcher does not parse (the loader has checked
    them, so that means the policy did not come through the loader) and
    ValueError if the policy has no ``default``.
    """

    def __init__(self, policy: Policy) -> None:
        if policy.default is None:
            raise ValueError("the policy has no default: every alert needs a priority")
        self.default = Classification(None, policy.default.priority, policy.default.escalation)
        self.rules = tuple(_compile(i, rule, self.default) for i, rule in enumerate(policy.rules))

    def classify(self, labels: Mapping[str, str]) -> Classification:
        for rule in self.rules:
            if matches_all(rule.matchers, labels):
                return rule.result
        return self.default


def _compile(index: int, rule: Rule, default: Classification) -> _CompiledRule:
    beat = rule.heartbeat
    result = Classification(
        rule_index=index,
        priority=rule.priority or (beat.priority if beat else default.priority),
        escalation=rule.escalation or (beat.escalation if beat else default.escalation),
        runbook=rule.runbook,
        group_by=rule.group_by,
        heartbeat=beat,
    )
    matchers = tuple(m for text in rule.matchers for m in parse_matchers(text).matchers)
    return _CompiledRule(matchers, result)


_CACHE: dict[int, tuple[Policy, Classifier]] = {}
_CACHE_SIZE = 8


def classifier_for(policy: Policy) -> Classifier:
    """The Classifier of this policy object, built on first use and kept.

    Keyed by identity (a Policy holds a dict, so it is not hashable); the
    cache holds the policy itself so an id cannot be reused while cached.
    """
    cached = _CACHE.get(id(policy))
    if cached is not None and cached[0] is policy:
        return cached[1]
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)))
    classifier = Classifier(policy)
    _CACHE[id(policy)] = (policy, classifier)
    return classifier


def classify(policy: Policy, labels: Mapping[str, str]) -> Classification:
    """Classify one alert's labels under ``policy`` (compiled rules are cached)."""
    return classifier_for(policy).classify(labels)
