"""Properties of rotations over every zone tzdata knows, 2000–2040.

The checks lean on facts independent of the implementation: what a UTC
instant reads on the zone's wall clock (``astimezone``, which also says
whether it is the first or second occurrence), and whether a wall-clock time
exists at all (a round trip through the zone).
"""

from __future__ import annotations

import functools
import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones

from hypothesis import given, settings
from hypothesis import strategies as st

from pager.core.rotation import on_call, shift_at, shifts
from pager.policy.model import Rotation, RotationOverride

ZONES = sorted(available_timezones())
NAMES = ("ann", "ben", "cat", "dan", "eve")
MICRO = timedelta(microseconds=1)

zones = st.sampled_from(ZONES)
lengths = st.one_of(
    st.integers(1, 48).map(lambda n: timedelta(hours=n)),
    st.integers(1, 14).map(lambda n: timedelta(days=n)),
    st.integers(1, 3).map(lambda n: timedelta(weeks=n)),
    st.integers(60, 3 * 86400).map(lambda n: timedelta(seconds=n)),
)
naive_times = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 12, 31))
instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2040, 12, 31), timezones=st.just(UTC)
)
members = st.lists(st.sampled_from(NAMES), max_size=4).map(tuple)


@functools.cache
def changes(name: str, year: int) -> tuple[datetime, ...]:
    """The instants the zone's UTC offset changed in ``year`` (weekly scan, then bisect)."""
    zone = ZoneInfo(name)
    found = []
    week, stop = datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    while week < stop:
        low, high = week, week + timedelta(days=7)
        if low.astimezone(zone).utcoffset() != high.astimezone(zone).utcoffset():
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                same = middle.astimezone(zone).utcoffset() == low.astimezone(zone).utcoffset()
                low, high = (middle, high) if same else (low, middle)
            found.append(high)
        week += timedelta(days=7)
    return tuple(found)


@st.composite
def cases(draw: st.DrawFn) -> tuple[Rotation, datetime]:
    """A rotation and an instant; mostly both close to one of the zone's offset changes.

    Random instants rarely meet a DST change, so the draw aims at one: the
    instant lands within two shifts of a change, and the handoff (moved by a
    whole number of shifts) often puts a local start in or next to the gap
    or fold.
    """
    name, length = draw(zones), draw(lengths)
    year = draw(st.integers(2000, 2040))
    year_changes = changes(name, year)
    handoff, at = draw(naive_times), draw(instants)
    aim = draw(st.integers(0, 4)) > 0  # four draws in five aim at a change
    if year_changes and aim:
        change = draw(st.sampled_from(year_changes))
        at = change + length * draw(st.floats(-2, 2))
        if draw(st.booleans()):
            nudge = timedelta(minutes=draw(st.integers(-150, 150)))
            turns = draw(st.integers(-20, 200))
            handoff = wall(change, ZoneInfo(name)) + nudge - turns * length
    rotation = Rotation(id="r", timezone=name, shift=length, handoff=handoff, members=draw(members))
    return rotation, at


def wall(at: datetime, zone: ZoneInfo) -> datetime:
    return at.astimezone(zone).replace(tzinfo=None)


def exists(local: datetime, zone: ZoneInfo) -> bool:
    return any(
        wall(local.replace(tzinfo=zone, fold=fold).astimezone(UTC), zone) == local
        for fold in (0, 1)
    )


def expected_member(rotation: Rotation, index: int) -> str | None:
    if not rotation.members:
        return None
    return rotation.members[index % len(rotation.members)]


@settings(max_examples=200, deadline=None)
@given(cases())
def test_shift_at_contains_the_instant(case):
    rotation, at = case
    shift = shift_at(rotation, at)
    assert shift.start <= at < shift.end
    assert shift.member == expected_member(rotation, shift.index)


@settings(max_examples=200, deadline=None)
@given(cases(), st.floats(0, 6))
def test_shifts_tile_time_and_take_turns(case, span):
    rotation, at = case
    zone = ZoneInfo(rotation.timezone)
    end = at + MICRO + rotation.shift * span
    found = shifts(rotation, at, end)
    assert found[0].start <= at < found[0].end
    assert found[-1].end >= end
    for before, after in itertools.pairwise(found):
        assert before.end == after.start  # no gap, no overlap
        assert before.index < after.index
        for skipped in range(before.index + 1, after.index):
            # a turn is skipped only when its local start does not exist
            assert not exists(rotation.handoff + skipped * rotation.shift, zone)
    for shift in found:
        assert shift.start < shift.end
        assert shift.member == expected_member(rotation, shift.index)
        assert shift_at(rotation, shift.start) == shift
        assert shift_at(rotation, shift.end - MICRO) == shift


@settings(max_examples=200, deadline=None)
@given(cases())
def test_shifts_start_at_the_handoff_wall_time(case):
    rotation, at = case
    zone = ZoneInfo(rotation.timezone)
    for shift in shifts(rotation, at, at + 3 * rotation.shift):
        local = rotation.handoff + shift.index * rotation.shift
        seen = shift.start.astimezone(zone)
        if seen.replace(tzinfo=None) == local:
            assert seen.fold == 0  # a repeated wall time: its first occurrence
        else:
            # a skipped wall time: the first instant after the gap
            assert not exists(local, zone)
            assert wall(shift.start - MICRO, zone) < local < wall(shift.start, zone)


overrides = st.builds(
    lambda person, offset, length, replaces: (person, offset, length, replaces),
    st.sampled_from(NAMES),
    st.integers(-3 * 1440, 3 * 1440),
    st.integers(0, 3 * 1440),
    st.none() | st.sampled_from(NAMES),
)


def build(at: datetime, spec: tuple[str, int, int, str | None]) -> RotationOverride:
    person, offset, length, replaces = spec
    start = at + timedelta(minutes=offset)
    return RotationOverride(
        person=person, start=start, end=start + timedelta(minutes=length), replaces=replaces
    )


def expected_person(rotation: Rotation, at: datetime, every: list[RotationOverride]) -> str | None:
    scheduled = shift_at(rotation, at).member
    applying = [
        o
        for o in every
        if o.start <= at < o.end and (o.replaces is None or o.replaces == scheduled)
    ]
    return applying[-1].person if applying else scheduled


@settings(max_examples=200, deadline=None)
@given(cases(), st.lists(overrides, max_size=3), st.lists(overrides, max_size=3))
def test_overrides_win_where_they_apply_and_nowhere_else(case, own, extra):
    rotation, at = case
    rotation = rotation.model_copy(update={"overrides": tuple(build(at, o) for o in own)})
    extra_overrides = [build(at, o) for o in extra]
    every = [*rotation.overrides, *extra_overrides]
    now = on_call(rotation, at, extra_overrides)
    shift = shift_at(rotation, at)
    assert now.scheduled == shift.member
    assert now.person == expected_person(rotation, at, every)
    if now.override is None:
        assert now.person == shift.member
    else:
        assert now.person == now.override.person
    assert shift.start <= now.since <= at < now.until <= shift.end
    # the assignment holds over [since, until) and changes at its edges
    for inside in (now.since, now.until - MICRO):
        again = on_call(rotation, inside, extra_overrides)
        assert (again.person, again.override) == (now.person, now.override)
    later = on_call(rotation, now.until, extra_overrides)
    assert now.next_person == later.person
    if now.until < shift.end:
        assert (later.person, later.override) != (now.person, now.override)
    if now.since > shift.start:
        earlier = on_call(rotation, now.since - MICRO, extra_overrides)
        assert (earlier.person, earlier.override) != (now.person, now.override)
