"""Heartbeats (dead man's switches): which are declared, which are missing.

Guarantees:
* A policy declares heartbeats two ways: `heartbeats:` entries (pinged by
  `POST /api/v1/heartbeats/{name}`) and rules with `heartbeat:` (pinged by
  every firing alert the rule matches, e.g. Alertmanager's Watchdog). A
  rule's heartbeat is named by the value of its `alertname="..."` matcher
  (`Watchdog`), or `rule-<index>` when it pins no alertname. A name declared
  twice is one heartbeat; the first declaration (entries, then rules) wins.
* A heartbeat is missing once `now >= last_seen + expect_every`. One never
  pinged counts from `since` (the shell passes the daemon's start, or the
  policy load that declared it), so a fresh daemon does not page at once;
  one declared `wait_for_first_ping` is not watched at all until its first
  ping (a new install whose monitoring is not wired up yet pages nobody).
* One incident per missing period: a heartbeat already `raised` (an incident
  was opened since its last ping) is not opened again, even if someone
  resolved that incident by hand; the next ping ends the period.
* Pure: time is a parameter; no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from pager.labels import MatcherError, MatchOp, parse_matchers
from pager.policy.model import Policy, Rule


@dataclass(frozen=True)
class HeartbeatDef:
    name: str
    expect_every: timedelta
    priority: str
    escalation: str
    rule_index: int | None = None  # None: a `heartbeats:` entry
    wait_for_first_ping: bool = False  # not watched until it was pinged once


@dataclass(frozen=True)
class Missing:
    """Open an incident for this heartbeat: nothing heard since `since`."""

    beat: HeartbeatDef
    last_seen: datetime | None
    due: datetime


@dataclass(frozen=True)
class Decision:
    missing: tuple[Missing, ...]
    next_due: datetime | None  # the earliest instant another heartbeat goes missing


def rule_heartbeat_name(index: int, rule: Rule) -> str:
    for text in rule.matchers:
        try:
            matchers = parse_matchers(text).matchers
        except MatcherError:
            continue
        for matcher in matchers:
            if matcher.name == "alertname" and matcher.op is MatchOp.EQUAL:
                return matcher.value
    return f"rule-{index}"


def declared(policy: Policy) -> tuple[HeartbeatDef, ...]:
    """Every heartbeat of a policy, by name, first declaration first."""
    found: dict[str, HeartbeatDef] = {}
    for beat in policy.heartbeats:
        found.setdefault(
            beat.name,
            HeartbeatDef(
                beat.name,
                beat.expect_every,
                beat.priority,
                beat.escalation,
                wait_for_first_ping=beat.wait_for_first_ping,
            ),
        )
    for index, rule in enumerate(policy.rules):
        spec = rule.heartbeat
        if spec is None:
            continue
        name = rule_heartbeat_name(index, rule)
        found.setdefault(
            name,
            HeartbeatDef(
                name,
                spec.expect_every,
                spec.priority,
                spec.escalation,
                index,
                spec.wait_for_first_ping,
            ),
        )
    return tuple(found.values())


def due_at(beat: HeartbeatDef, last_seen: datetime | None, since: datetime) -> datetime:
    return (last_seen or since) + beat.expect_every


def decide(
    beats: Iterable[HeartbeatDef],
    last_seen: Mapping[str, datetime | None],
    raised: Mapping[str, int],
    since: Mapping[str, datetime],
    now: datetime,
) -> Decision:
    """Which heartbeats to raise now, and when to look again.

    `raised` maps a name to the incident opened for its current missing
    period; `since` gives each name's baseline for "never pinged".
    """
    missing: list[Missing] = []
    upcoming: list[datetime] = []
    for beat in beats:
        if beat.name in raised:
            continue  # already paged for this silence; a ping clears it
        seen = last_seen.get(beat.name)
        if seen is None and beat.wait_for_first_ping:
            continue  # not watched until its first ping
        due = due_at(beat, seen, since.get(beat.name, now))
        if now >= due:
            missing.append(Missing(beat, seen, due))
        else:
            upcoming.append(due)
    return Decision(tuple(missing), min(upcoming, default=None))
