"""A rotation's schedule over a period: who is on call from when to when.

Pure. The schedule is the sequence of on-call assignments that
`pager.core.rotation.on_call` gives when asked at each assignment's end in
turn, so the schedule page, the calendar feeds, My on-call and
`GET /api/v1/oncall` agree by construction: a block is a shift, cut where an
override starts or ends. Blocks tile the period without gaps; the first and
the last may reach outside it (they are whole, not clipped).

Days are local calendar days of a zone: a day is the span from one local
midnight to the next, so the day the clocks go forward lasts 23 hours and
the one they go back 25 (`Day.hours`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from pager.core.rotation import local_instant, on_call, utc
from pager.policy.model import Rotation, RotationOverride

MAX_BLOCKS = 5000  # a 1-minute rotation over months would be more than anyone reads


@dataclass(frozen=True, slots=True)
class Block:
    start: datetime
    end: datetime
    person: str | None  # None: nobody is on call
    scheduled: str | None  # the plain rotation's member
    override: RotationOverride | None  # the override that put `person` there

    @property
    def length(self) -> timedelta:
        return self.end - self.start


def blocks(
    rotation: Rotation,
    start: datetime,
    end: datetime,
    overrides: Sequence[RotationOverride] = (),
    limit: int = MAX_BLOCKS,
) -> list[Block]:
    """The assignments overlapping ``[start, end)``, in order, at most ``limit``."""
    at, end = utc(start), utc(end)
    found: list[Block] = []
    while at < end and len(found) < limit:
        now = on_call(rotation, at, overrides)
        found.append(Block(now.since, now.until, now.person, now.scheduled, now.override))
        at = now.until
    return found


def of_person(found: Sequence[Block], person: str) -> list[Block]:
    return [b for b in found if b.person == person]


@dataclass(frozen=True, slots=True)
class Day:
    day: date
    start: datetime  # local midnight, as UTC
    end: datetime  # the next local midnight

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600


def days(first: date, count: int, zone: str) -> list[Day]:
    """``count`` local days from ``first`` in ``zone``."""
    tz = ZoneInfo(zone)
    midnight = [
        local_instant(datetime.combine(first + timedelta(days=n), datetime.min.time()), tz)
        for n in range(count + 1)
    ]
    return [Day(first + timedelta(days=n), midnight[n], midnight[n + 1]) for n in range(count)]


def clip(found: Sequence[Block], start: datetime, end: datetime) -> list[Block]:
    """The parts of ``found`` inside ``[start, end)``."""
    return [
        Block(max(b.start, start), min(b.end, end), b.person, b.scheduled, b.override)
        for b in found
        if b.end > start and b.start < end
    ]
