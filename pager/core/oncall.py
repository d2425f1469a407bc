"""Target resolution: from ``rotation:ID`` / ``person:ID`` to the people to page.

Pure: the instant and the database's overrides are parameters. Guarantees:
- People come out deduplicated, in the order their targets are listed.
- A rotation target with nobody on call adds nobody and is named in
  ``Resolution.empty``, so the engine can skip (and log) an empty level.
- Overrides for a rotation are its policy overrides followed by the
  database's, keyed by rotation id; the newest (last) wins
  (see pager.core.rotation).
These feed ``GET /api/v1/oncall``, ``pager oncall`` and the escalation engine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from pager.core.rotation import on_call
from pager.policy.model import Policy, Rotation, RotationOverride

Overrides = Mapping[str, Sequence[RotationOverride]]  # rotation id -> its database overrides
NO_OVERRIDES: Overrides = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Resolution:
    people: tuple[str, ...]  # deduplicated, in target order
    empty: tuple[str, ...]  # the "rotation:ID" targets that had nobody on call


@dataclass(frozen=True, slots=True)
class RotationReport:
    rotation: str
    timezone: str
    person: str | None  # None: nobody is on call
    since: datetime
    until: datetime
    scheduled: str | None  # the plain rotation's member, before overrides
    override: RotationOverride | None
    next_person: str | None  # on call from `until`


@dataclass(frozen=True, slots=True)
class LevelReport:
    level: int  # 1-based, as people count levels
    targets: tuple[str, ...]
    people: tuple[str, ...]
    empty: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class EscalationReport:
    escalation: str
    levels: tuple[LevelReport, ...]


def _rotation(policy: Policy, ident: str) -> Rotation:
    for rotation in policy.rotations:
        if rotation.id == ident:
            return rotation
    raise KeyError(f"unknown rotation {ident!r}")


def resolve_targets(
    policy: Policy,
    targets: Sequence[str],
    at: datetime,
    overrides: Overrides = NO_OVERRIDES,
) -> Resolution:
    """The people the targets stand for at ``at``; unknown rotations raise KeyError."""
    people: dict[str, None] = {}  # an ordered set
    empty: list[str] = []
    for target in targets:
        kind, _, ident = target.partition(":")
        if kind == "person":
            people.setdefault(ident)
        elif kind == "rotation":
            rotation = _rotation(policy, ident)
            person = on_call(rotation, at, overrides.get(ident, ())).person
            if person is None:
                empty.append(target)
            else:
                people.setdefault(person)
        else:
            raise ValueError(f"target {target!r} must be rotation:ID or person:ID")
    return Resolution(tuple(people), tuple(empty))


def _report(rotation: Rotation, at: datetime, overrides: Overrides) -> RotationReport:
    now = on_call(rotation, at, overrides.get(rotation.id, ()))
    return RotationReport(
        rotation=rotation.id,
        timezone=rotation.timezone,
        person=now.person,
        since=now.since,
        until=now.until,
        scheduled=now.scheduled,
        override=now.override,
        next_person=now.next_person,
    )


def oncall_report(
    policy: Policy, at: datetime, overrides: Overrides = NO_OVERRIDES
) -> list[RotationReport]:
    """Every rotation of the policy, in policy order, at ``at``."""
    return [_report(rotation, at, overrides) for rotation in policy.rotations]


def level_report(
    policy: Policy, at: datetime, overrides: Overrides = NO_OVERRIDES
) -> list[EscalationReport]:
    """Every escalation policy's levels with the people they resolve to at ``at``."""
    reports = []
    for escalation in policy.escalation_policies:
        levels = []
        for number, level in enumerate(escalation.levels, start=1):
            found = resolve_targets(policy, level.targets, at, overrides)
            levels.append(LevelReport(number, level.targets, found.people, found.empty))
        reports.append(EscalationReport(escalation.id, tuple(levels)))
    return reports


def escalation_people(
    policy: Policy, escalation: str, at: datetime, overrides: Overrides = NO_OVERRIDES
) -> frozenset[str]:
    """Everyone the levels of `escalation` reach at ``at`` (none if it is not in the policy)."""
    spec = next((e for e in policy.escalation_policies if e.id == escalation), None)
    if spec is None:
        return frozenset()
    return frozenset(
        person
        for level in spec.levels
        for person in resolve_targets(policy, level.targets, at, overrides).people
    )
