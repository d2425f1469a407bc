"""Checks across policy pieces: ids, references and values no single model can judge.

Guarantees: every dangling reference or duplicate is an error at the line of
the offending value, and references are checked against every id *declared*
in the files, valid or not, so one broken person does not also produce an
"unknown person" error everywhere it is named. Warnings flag what is legal
but probably a mistake (a P1 rule without a runbook, an empty rotation, a
heartbeat rule that does not pin ``alertname``, two people with one phone, a
matcher only Alertmanager's classic parser reads). A matcher Alertmanager's
two parsers read differently is an error (see :mod:`pager.labels.parse`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

from yaml.nodes import Node

from pager.labels import Matcher, MatcherError, MatchOp, parse_matchers
from pager.policy.errors import PathPart, PolicyIssue, Severity, format_path
from pager.policy.model import (
    ID_MAX,
    Default,
    EscalationPolicy,
    Heartbeat,
    Person,
    PriorityDef,
    Rotation,
    Rule,
    Throttle,
)
from pager.policy.source import line_of, node_at

T = TypeVar("T")


@dataclass(frozen=True)
class Located(Generic[T]):
    """A validated piece of policy and where it was written."""

    file: str
    path: tuple[PathPart, ...]  # e.g. ("rotations", 0) within its file
    node: Node
    value: T
    partial: bool = False  # invalid item, read only for its references; no warnings


@dataclass
class Parts:
    """The validated pieces of all files, before they are merged into a Policy."""

    people: list[Located[Person]] = field(default_factory=list)
    rotations: list[Located[Rotation]] = field(default_factory=list)
    escalation_policies: list[Located[EscalationPolicy]] = field(default_factory=list)
    priorities: dict[str, Located[PriorityDef]] = field(default_factory=dict)
    throttle: Located[Throttle] | None = None
    rules: list[Located[Rule]] = field(default_factory=list)
    heartbeats: list[Located[Heartbeat]] = field(default_factory=list)
    default: Located[Default] | None = None
    # section -> id -> "file:line", for every item written, valid or not
    declared: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass
class Reporter:
    issues: list[PolicyIssue]

    def add(
        self,
        item: Located[Any],
        sub: tuple[PathPart, ...],
        message: str,
        severity: Severity = "error",
    ) -> None:
        if severity == "warning" and item.partial:
            return  # the item has errors already; its warnings would be noise
        node = node_at(item.node, sub)
        text = f"{format_path((*item.path, *sub))}: {message}"
        self.issues.append(PolicyIssue(item.file, line_of(node), text, severity))


def check_all(parts: Parts, report: Reporter) -> None:
    _check_phones(parts, report)
    _check_emails(parts, report)
    for rotation in parts.rotations:
        _check_rotation(rotation, parts, report)
    for policy in parts.escalation_policies:
        _check_levels(policy, parts, report)
    for priority in parts.priorities.values():
        _check_priority(priority, parts, report)
    for rule in parts.rules:
        _check_rule(rule, parts, report)
    for beat in parts.heartbeats:
        _check_route(beat, (), beat.value.priority, beat.value.escalation, parts, report)
    if parts.default is not None:
        value = parts.default.value
        _check_route(parts.default, (), value.priority, value.escalation, parts, report)


def _check_phones(parts: Parts, report: Reporter) -> None:
    """Replies are told apart by phone number: a shared one acts as its first owner."""
    owners: dict[str, Located[Person]] = {}
    for person in parts.people:
        phone = person.value.phone
        if not isinstance(phone, str):
            continue
        first = owners.setdefault(phone, person)
        if first is not person:
            where = f"{first.file}:{line_of(node_at(first.node, ('phone',)))}"
            message = (
                f"phone {phone} is also {first.value.id}'s ({where}): a reply from it "
                f"acts as {first.value.id}"
            )
            report.add(person, ("phone",), message, "warning")


def _check_emails(parts: Parts, report: Reporter) -> None:
    """An email signs in through a proxy header, so it must name one person."""
    first: dict[str, str] = {}
    for person in parts.people:
        email = person.value.email
        if email is None:
            continue
        if email.casefold() in first:
            owner = first[email.casefold()]
            message = f"email {email!r} is also {owner}'s: give each person their own"
            report.add(person, ("email",), message)
        else:
            first[email.casefold()] = person.value.id


def _known(parts: Parts, section: str, ident: str) -> bool:
    return ident in parts.declared.get(section, {})


def _check_rotation(item: Located[Rotation], parts: Parts, report: Reporter) -> None:
    rotation = item.value
    for index, member in enumerate(rotation.members):
        if not _known(parts, "people", member):
            report.add(item, ("members", index), f"unknown person {member!r}")
    if not rotation.members:
        message = f"rotation {rotation.id!r} has no members: only overrides can page through it"
        report.add(item, (), message, "warning")
    for index, override in enumerate(rotation.overrides):
        sub: tuple[PathPart, ...] = ("overrides", index)
        if not _known(parts, "people", override.person):
            report.add(item, (*sub, "person"), f"unknown person {override.person!r}")
        if override.replaces is not None and override.replaces not in rotation.members:
            message = f"{override.replaces!r} is not a member of rotation {rotation.id!r}"
            report.add(item, (*sub, "replaces"), message)
        zone = ZoneInfo(rotation.timezone)
        if _aware(override.end, zone) <= _aware(override.start, zone):
            report.add(item, (*sub, "end"), "end must be after start")


def _aware(moment: datetime, zone: ZoneInfo) -> datetime:
    """A naive override time is local to the rotation, like its handoff."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def _check_levels(item: Located[EscalationPolicy], parts: Parts, report: Reporter) -> None:
    levels = item.value.levels
    for index, level in enumerate(levels):
        for number, target in enumerate(level.targets):
            _check_target(item, ("levels", index, "targets", number), target, parts, report)
        if level.ack_timeout is None and index < len(levels) - 1:
            message = "ack_timeout is required on every level but the last"
            report.add(item, ("levels", index), message)


def _check_target(
    item: Located[Any], sub: tuple[PathPart, ...], target: str, parts: Parts, report: Reporter
) -> None:
    kind, _, ident = target.partition(":")
    if kind == "rotation" and not _known(parts, "rotations", ident):
        report.add(item, sub, f"unknown rotation {ident!r}")
    elif kind == "person" and not _known(parts, "people", ident):
        report.add(item, sub, f"unknown person {ident!r}")
    elif kind not in ("rotation", "person") or not ident:
        report.add(item, sub, f"target {target!r} must be rotation:ID or person:ID")


def _check_priority(item: Located[PriorityDef], parts: Parts, report: Reporter) -> None:
    value = item.value
    for index, target in enumerate(value.stakeholders):
        _check_target(item, ("stakeholders", index), target, parts, report)
    if value.upgrade_to is not None:
        if value.upgrade_to not in parts.declared.get("priorities", {}):
            report.add(item, ("upgrade_to",), _unknown_priority(value.upgrade_to, parts))
        elif value.upgrade_to == item.path[-1]:
            report.add(item, ("upgrade_to",), "a priority cannot upgrade to itself")
    if (value.upgrade_to is None) != (value.upgrade_after is None):
        report.add(item, (), "upgrade_to and upgrade_after go together: give both or neither")


def _unknown_priority(name: str, parts: Parts) -> str:
    defined = ", ".join(sorted(parts.declared.get("priorities", {}))) or "none"
    return f"unknown priority {name!r} (defined: {defined})"


def _check_route(
    item: Located[Any],
    sub: tuple[PathPart, ...],
    priority: str | None,
    escalation: str | None,
    parts: Parts,
    report: Reporter,
) -> None:
    """A priority and escalation policy named together (rule, heartbeat, default)."""
    if priority is not None and priority not in parts.declared.get("priorities", {}):
        report.add(item, (*sub, "priority"), _unknown_priority(priority, parts))
    if escalation is not None and not _known(parts, "escalation_policies", escalation):
        report.add(item, (*sub, "escalation"), f"unknown escalation policy {escalation!r}")


def _check_rule(item: Located[Rule], parts: Parts, report: Reporter) -> None:
    rule = item.value
    pinned = set()  # label names the rule requires to equal or match something
    alertname = None  # the heartbeat's name, as pager.core.heartbeat reads it
    for index, text in enumerate(rule.matchers):
        for matcher in _item_matchers(item, index, text, report):
            if matcher.op in (MatchOp.EQUAL, MatchOp.REGEX):
                pinned.add(matcher.name)
            if alertname is None and matcher.name == "alertname" and matcher.op is MatchOp.EQUAL:
                alertname = matcher.value
    _check_route(item, (), rule.priority, rule.escalation, parts, report)
    if rule.heartbeat is not None:
        beat = rule.heartbeat
        _check_route(item, ("heartbeat",), beat.priority, beat.escalation, parts, report)
        if "alertname" not in pinned:
            message = "heartbeat rule does not match on alertname: every alert it matches is a ping"
            report.add(item, ("matchers",), message, "warning")
        elif alertname is not None and len(alertname) > ID_MAX:
            size = len(alertname)
            message = f"the heartbeat is named by its alertname: {size} characters, max {ID_MAX}"
            report.add(item, ("matchers",), message)
    elif _effective_priority(rule, parts) == "P1" and not rule.runbook:
        message = "P1 rule has no runbook: add runbook: <url> so the page says what to do"
        report.add(item, (), message, "warning")


def _item_matchers(
    item: Located[Rule], index: int, text: str, report: Reporter
) -> tuple[Matcher, ...]:
    """The matchers of one ``matchers`` item (it may hold several), with its issues reported."""
    sub: tuple[PathPart, ...] = ("matchers", index)
    try:
        parsed = parse_matchers(text)
    except MatcherError as err:
        report.add(item, sub, str(err))
        return ()
    if parsed.warning is not None:
        report.add(item, sub, parsed.warning, "warning")
    if not parsed.matchers:
        report.add(item, sub, f"'{text}' holds no matcher: write one, e.g. severity=\"critical\"")
    return parsed.matchers


def _effective_priority(rule: Rule, parts: Parts) -> str | None:
    if rule.priority is not None:
        return rule.priority
    return parts.default.value.priority if parts.default is not None else None
