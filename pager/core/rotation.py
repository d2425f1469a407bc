"""On-call rotations: which shift holds an instant, and who is on call in it.

Pure: no I/O and no clock; instants in and out are timezone-aware UTC.

Guarantees (docs/rotations.md says the same for people):
- Shift k starts at the local wall-clock time ``handoff + k * shift`` in the
  rotation's zone, so a daily 09:00 rotation hands off at 09:00 every day; the
  shift across a DST change lasts 23h or 25h.
- A local start that does not exist (skipped by a spring-forward gap) happens
  at the first instant after the gap; one that exists twice (fall back)
  happens at its first occurrence.
- Shifts tile time: each ends where the next begins. When two local starts
  land on the same instant (an hourly start inside a gap) the earlier shift
  has no length and is dropped; turns still follow the shift index, so that
  member's turn is skipped rather than everyone's turn moving.
- The member of shift k is ``members[k % len(members)]``, for negative k
  (before the handoff) too; a rotation without members has shifts with
  ``member=None``.
- Finding the shift at an instant costs a few zone conversions whatever the
  distance from the handoff: an estimate from the wall clock, then a
  galloping search that only covers the error the zone's offsets introduce.
- Overrides are half-open ``[start, end)``; with ``replaces=None`` one takes
  the whole rotation, with ``replaces=X`` only X's turns. When several apply
  the last one in the sequence (the newest) wins. Naive override times are
  wall-clock times in the rotation's zone, read with the same gap/fold rules.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from pager.policy.model import Rotation, RotationOverride

_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Shift:
    """One turn: ``[start, end)`` in UTC; ``index`` counts shifts from the handoff."""

    start: datetime
    end: datetime
    member: str | None
    index: int


@dataclass(frozen=True, slots=True)
class OnCall:
    """Who is on call at one instant, and for how long that holds.

    ``since``/``until`` bound the current assignment: the shift, clipped where
    the set of applying overrides changes who (or which override) is on call.
    ``next_person`` is whoever is on call from ``until``.
    """

    person: str | None
    since: datetime
    until: datetime
    scheduled: str | None  # the plain rotation's member, before overrides
    override: RotationOverride | None
    next_person: str | None


def utc(at: datetime) -> datetime:
    """``at`` as UTC; a naive datetime is refused because its instant is unknown."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{at.isoformat()} has no time zone: pass an aware datetime")
    return at.astimezone(UTC)


def local_instant(local: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock ``local`` in ``zone``.

    A time in a gap becomes the first instant after the gap; a time that
    exists twice becomes its first occurrence (fold=0 is the earlier one).
    """
    first = local.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if _wall(first, zone) == local:
        return first
    return _gap_end(local, zone)


def _wall(at: datetime, zone: ZoneInfo) -> datetime:
    return at.astimezone(zone).replace(tzinfo=None)


def _gap_end(local: datetime, zone: ZoneInfo) -> datetime:
    # In a gap, fold=0 reads `local` with the offset before the change and
    # fold=1 with the one after; the change itself lies between the two
    # readings. Bisect for the first instant whose wall clock reaches `local`.
    readings = [local.replace(tzinfo=zone, fold=f).astimezone(UTC) for f in (0, 1)]
    low, high = min(readings), max(readings)
    while high - low > _MICROSECOND:
        middle = low + (high - low) // 2
        if _wall(middle, zone) >= local:
            high = middle
        else:
            low = middle
    return high


def _start(rotation: Rotation, zone: ZoneInfo, index: int) -> datetime:
    return local_instant(rotation.handoff + index * rotation.shift, zone)


def _member(rotation: Rotation, index: int) -> str | None:
    if not rotation.members:
        return None
    return rotation.members[index % len(rotation.members)]


def _index_at(rotation: Rotation, zone: ZoneInfo, at: datetime) -> int:
    """The largest k whose shift starts at or before ``at`` (starts never decrease in k)."""
    guess = (_wall(at, zone) - rotation.handoff) // rotation.shift
    step = 1
    if _start(rotation, zone, guess) <= at:
        low = guess
        while _start(rotation, zone, low + step) <= at:
            low, step = low + step, step * 2
        high = low + step
    else:
        high = guess
        while _start(rotation, zone, high - step) > at:
            high, step = high - step, step * 2
        low = high - step
    while high - low > 1:  # start(low) <= at < start(high)
        middle = (low + high) // 2
        if _start(rotation, zone, middle) <= at:
            low = middle
        else:
            high = middle
    return low


def shift_at(rotation: Rotation, at: datetime) -> Shift:
    """The shift that contains ``at``; never a zero-length one."""
    at = utc(at)
    zone = ZoneInfo(rotation.timezone)
    index = _index_at(rotation, zone, at)
    start, end = _start(rotation, zone, index), _start(rotation, zone, index + 1)
    return Shift(start, end, _member(rotation, index), index)


def _following(rotation: Rotation, zone: ZoneInfo, shift: Shift) -> Shift:
    index, start = shift.index + 1, shift.end
    end = _start(rotation, zone, index + 1)
    while end <= start:  # a zero-length shift: its turn is skipped
        index += 1
        end = _start(rotation, zone, index + 1)
    return Shift(start, end, _member(rotation, index), index)


def shifts(rotation: Rotation, start: datetime, end: datetime) -> list[Shift]:
    """Every shift that overlaps ``[start, end)``, whole (not clipped), in order."""
    start, end = utc(start), utc(end)
    if end <= start:
        return []
    zone = ZoneInfo(rotation.timezone)
    found = [shift_at(rotation, start)]
    while found[-1].end < end:
        found.append(_following(rotation, zone, found[-1]))
    return found


@dataclass(frozen=True, slots=True)
class _Window:
    start: datetime
    end: datetime
    override: RotationOverride

    def applies(self, at: datetime, scheduled: str | None) -> bool:
        replaces = self.override.replaces
        wanted = replaces is None or (scheduled is not None and replaces == scheduled)
        return wanted and self.start <= at < self.end


def _instant(value: datetime, zone: ZoneInfo) -> datetime:
    return local_instant(value, zone) if value.tzinfo is None else utc(value)


def _windows(zone: ZoneInfo, overrides: Sequence[RotationOverride]) -> list[_Window]:
    return [_Window(_instant(o.start, zone), _instant(o.end, zone), o) for o in overrides]


def _winner(windows: Sequence[_Window], at: datetime, scheduled: str | None) -> int | None:
    """Position of the newest window that applies at ``at``, if any."""
    hits = [i for i, window in enumerate(windows) if window.applies(at, scheduled)]
    return hits[-1] if hits else None


def _person(windows: Sequence[_Window], winner: int | None, scheduled: str | None) -> str | None:
    return scheduled if winner is None else windows[winner].override.person


def _assignment(
    shift: Shift, windows: Sequence[_Window], at: datetime
) -> tuple[datetime, datetime, int | None]:
    """``(since, until, winner)``: the stretch of ``shift`` around ``at`` with one winner."""
    cuts = {shift.start, shift.end}
    cuts.update(t for w in windows for t in (w.start, w.end) if shift.start < t < shift.end)
    points = sorted(cuts)
    winner = _winner(windows, at, shift.member)
    pieces = list(itertools.pairwise(points))
    same = [_winner(windows, a, shift.member) == winner for a, _ in pieces]
    here = next(i for i, (a, b) in enumerate(pieces) if a <= at < b)
    first = here
    while first > 0 and same[first - 1]:
        first -= 1
    last = here
    while last + 1 < len(pieces) and same[last + 1]:
        last += 1
    return pieces[first][0], pieces[last][1], winner


def on_call(rotation: Rotation, at: datetime, overrides: Sequence[RotationOverride] = ()) -> OnCall:
    """Who is on call at ``at``: the rotation's own overrides, then ``overrides`` (newer)."""
    at = utc(at)
    zone = ZoneInfo(rotation.timezone)
    windows = _windows(zone, (*rotation.overrides, *overrides))
    shift = shift_at(rotation, at)
    since, until, winner = _assignment(shift, windows, at)
    after = shift if until < shift.end else _following(rotation, zone, shift)
    next_person = _person(windows, _winner(windows, until, after.member), after.member)
    return OnCall(
        person=_person(windows, winner, shift.member),
        since=since,
        until=until,
        scheduled=shift.member,
        override=None if winner is None else windows[winner].override,
        next_person=next_person,
    )


def find_overlap(
    existing: Sequence[RotationOverride], new: RotationOverride, timezone: str = "UTC"
) -> RotationOverride | None:
    """The first of ``existing`` (same rotation) that ``new`` conflicts with, if any.

    Two overrides conflict when their periods overlap and they cover the same
    turns: both the whole rotation, the same replaced member, or one of them
    the whole rotation. ``timezone`` reads naive times (the rotation's zone).
    """
    zone = ZoneInfo(timezone)
    [fresh] = _windows(zone, [new])
    if fresh.end <= fresh.start:
        return None
    for window in _windows(zone, existing):
        overlaps = window.start < min(window.end, fresh.end) and fresh.start < window.end
        if overlaps and _same_target(window.override, new):
            return window.override
    return None


def _same_target(a: RotationOverride, b: RotationOverride) -> bool:
    return a.replaces is None or b.replaces is None or a.replaces == b.replaces


def can_be_empty(rotation: Rotation) -> bool:
    """True when the rotation has no members, so nobody is on call without an override."""
    return not rotation.members
