"""What the policy would do with a label set, now: the `pager explain` answer.

Pure: classification and target resolution only, no side effect.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pager.core.classify import Classifier
from pager.core.hours import in_hours, next_opening
from pager.core.oncall import Overrides, resolve_targets
from pager.policy.durations import format_duration
from pager.policy.model import Hours, Policy, PriorityDef


@dataclass(frozen=True)
class LevelReach:
    level: int  # 1-based
    targets: tuple[str, ...]
    people: tuple[str, ...]
    empty: tuple[str, ...]
    ack_timeout: str | None


@dataclass(frozen=True)
class Explanation:
    rule: str  # "rules[2]: severity="critical"" or "default"
    priority: str
    escalation: str
    heartbeat: bool
    description: str
    channels: tuple[str, ...]
    levels: tuple[LevelReach, ...]
    hours: str  # "always", or the window: "mon-fri 09:00-18:00 Europe/London"
    held_until: datetime | None  # outside its hours now: the page waits until then


def explain(
    policy: Policy,
    classifier: Classifier,
    labels: dict[str, str],
    at: datetime,
    overrides: Overrides,
) -> Explanation:
    c = classifier.classify(labels)
    if c.rule_index is None:
        rule = "default"
    else:
        rule = f"rules[{c.rule_index}]: " + ", ".join(policy.rules[c.rule_index].matchers)
    prio = policy.priorities.get(c.priority) or PriorityDef()
    levels = []
    for number, level in enumerate(policy.escalation(c.escalation).levels, start=1):
        found = resolve_targets(policy, level.targets, at, overrides)
        timeout = format_duration(level.ack_timeout) if level.ack_timeout else None
        levels.append(LevelReach(number, level.targets, found.people, found.empty, timeout))
    return Explanation(
        rule,
        c.priority,
        c.escalation,
        c.heartbeat is not None,
        prio.description,
        prio.channels,
        tuple(levels),
        describe_hours(prio.hours),
        held_until(prio.hours, at),
    )


def describe_hours(hours: Hours | str) -> str:
    if isinstance(hours, str):
        return hours
    return f"{hours.days} {hours.from_}-{hours.to} {hours.timezone}"


def held_until(hours: Hours | str, at: datetime) -> datetime | None:
    """When a page opened at `at` would go out: None at once, else the window's opening."""
    if isinstance(hours, str) or in_hours(hours, at):
        return None
    return next_opening(hours, at)


def rules_for(policy: Policy, priority: str) -> list[str]:
    """The rules that lead to a priority, as their matchers; 'default' when it does."""
    found = [
        f"rules[{i}]: " + ", ".join(r.matchers)
        for i, r in enumerate(policy.rules)
        if r.priority == priority
    ]
    if policy.default is not None and policy.default.priority == priority:
        found.append("default")
    return found
