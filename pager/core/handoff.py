"""Handoff notices: which people should be told now that they come on call soon.

Pure. A notice is due for a handoff (an assignment of a rotation starting
after `now` with a person other than the one before it) once `now` has
reached the handoff minus the lead time: the person's own `handoff_notice`
(`off`: never), else the rotation's. A handoff that has begun is not
announced any more (it would tell someone what they already live). Overrides
count: the person told is the one actually on call from the handoff, and
until when is the end of their stretch, however many blocks it spans.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta

from pager.core.oncall import Overrides
from pager.core.schedule import Block, blocks
from pager.policy.model import Policy, Rotation

NO_NOTICE = timedelta(0)
EPSILON = timedelta(microseconds=1)
STRETCH = timedelta(days=62)  # how far "until" is followed for one person's stretch


@dataclass(frozen=True)
class Notice:
    rotation: str
    timezone: str
    person: str
    start: datetime  # the handoff
    end: datetime  # when their stretch ends
    due: datetime
    levels: tuple[tuple[str, int], ...]  # (escalation policy, 1-based level) that page it


def lead_time(policy: Policy, rotation: Rotation, person: str) -> timedelta | None:
    found = policy.person_by_id(person)
    own = found.handoff_notice if found is not None else None
    if own == "off":
        return None
    return own if isinstance(own, timedelta) else rotation.handoff_notice


def longest_lead(policy: Policy, rotation: Rotation) -> timedelta:
    leads = [rotation.handoff_notice or NO_NOTICE]
    leads += [p.handoff_notice for p in policy.people if isinstance(p.handoff_notice, timedelta)]
    return max(leads)


def due_notices(policy: Policy, overrides: Overrides, now: datetime) -> list[Notice]:
    found: list[Notice] = []
    for rotation in policy.rotations:
        horizon = longest_lead(policy, rotation)
        if horizon > NO_NOTICE:
            found += _of_rotation(policy, rotation, overrides, now, horizon)
    return found


def _of_rotation(
    policy: Policy, rotation: Rotation, overrides: Overrides, now: datetime, horizon: timedelta
) -> list[Notice]:
    # Up to and including a handoff exactly `horizon` away.
    ahead = blocks(rotation, now, now + horizon + EPSILON, overrides.get(rotation.id, ()))
    found = []
    for before, block in itertools.pairwise(ahead):
        if block.person is None or block.person == before.person or block.start <= now:
            continue
        lead = lead_time(policy, rotation, block.person)
        if lead is None or block.start - lead > now:
            continue
        end = stretch_end(rotation, block, overrides)
        levels = levels_of(policy, rotation.id)
        found.append(
            Notice(
                rotation.id,
                rotation.timezone,
                block.person,
                block.start,
                end,
                block.start - lead,
                levels,
            )
        )
    return found


def stretch_end(rotation: Rotation, first: Block, overrides: Overrides) -> datetime:
    """Where the person of `first` stops being on call (consecutive blocks joined)."""
    later = blocks(rotation, first.start, first.start + STRETCH, overrides.get(rotation.id, ()), 50)
    end = first.end
    for block in later:
        if block.start >= end and block.person != first.person:
            break
        end = max(end, block.end)
    return end


def levels_of(policy: Policy, rotation: str) -> tuple[tuple[str, int], ...]:
    target = f"rotation:{rotation}"
    return tuple(
        (e.id, number)
        for e in policy.escalation_policies
        for number, level in enumerate(e.levels, start=1)
        if target in level.targets
    )
