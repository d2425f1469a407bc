"""Rotation shifts across DST, with UTC instants worked out by hand.

Every expected instant below is a literal: the local hand-off time and the
zone's offset on that day, written out in the comment beside it. The 2026
changes used: Europe/London 29 Mar 01:00Z (GMT→BST) and 25 Oct 01:00Z
(BST→GMT); America/New_York 8 Mar 07:00Z and 1 Nov 06:00Z; America/Chicago
8 Mar 08:00Z and 1 Nov 07:00Z; Australia/Lord_Howe 4 Apr 15:00Z (+11→+10:30,
02:00→01:30 local) and 3 Oct 15:30Z (+10:30→+11, 02:00→02:30 local).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from pager.core.rotation import Shift, shift_at, shifts
from pager.policy.model import Rotation

HOUR, DAY, WEEK = timedelta(hours=1), timedelta(days=1), timedelta(weeks=1)
ABC = ("a", "b", "c")


def z(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A UTC instant: z(2026, 3, 29, 1, 30)."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def rot(zone: str, shift: timedelta, handoff: datetime, members: tuple[str, ...] = ABC) -> Rotation:
    return Rotation(id="r", timezone=zone, shift=shift, handoff=handoff, members=members)


# (id, rotation, window start, window end, [(index, start, end, member), ...])
CASES = [
    (
        "london-daily-spring-23h",
        rot("Europe/London", DAY, datetime(2026, 1, 5, 9), ("alice", "bob")),
        z(2026, 3, 28, 0),
        z(2026, 3, 30, 12),
        [
            (81, z(2026, 3, 27, 9), z(2026, 3, 28, 9), "bob"),  # 09:00 GMT
            (82, z(2026, 3, 28, 9), z(2026, 3, 29, 8), "alice"),  # 09:00 GMT → 09:00 BST
            (83, z(2026, 3, 29, 8), z(2026, 3, 30, 8), "bob"),
            (84, z(2026, 3, 30, 8), z(2026, 3, 31, 8), "alice"),
        ],
    ),
    (
        "london-daily-autumn-25h",
        rot("Europe/London", DAY, datetime(2026, 1, 5, 9), ("alice", "bob")),
        z(2026, 10, 24, 12),
        z(2026, 10, 25, 12),
        [
            # 5 Jan → 24 Oct is 292 days
            (292, z(2026, 10, 24, 8), z(2026, 10, 25, 9), "alice"),  # 09:00 BST → 09:00 GMT
            (293, z(2026, 10, 25, 9), z(2026, 10, 26, 9), "bob"),
        ],
    ),
    (
        "london-daily-handoff-in-gap",
        rot("Europe/London", DAY, datetime(2026, 3, 29, 1, 30)),
        z(2026, 3, 28, 12),
        z(2026, 3, 29, 12),
        [
            (-1, z(2026, 3, 28, 1, 30), z(2026, 3, 29, 1), "c"),  # 01:30 GMT
            (0, z(2026, 3, 29, 1), z(2026, 3, 30, 0, 30), "a"),  # 01:30 missing → 02:00 BST
        ],
    ),
    (
        "london-daily-handoff-at-gap-start",
        rot("Europe/London", DAY, datetime(2026, 3, 29, 1, 0)),
        z(2026, 3, 29, 0),
        z(2026, 3, 29, 2),
        [
            (-1, z(2026, 3, 28, 1), z(2026, 3, 29, 1), "c"),
            (0, z(2026, 3, 29, 1), z(2026, 3, 30, 0), "a"),  # 01:00 missing → 02:00 BST
        ],
    ),
    (
        "london-daily-handoff-just-before-gap",
        rot("Europe/London", DAY, datetime(2026, 3, 29, 0, 59)),
        z(2026, 3, 29, 1),
        z(2026, 3, 29, 2),
        [(0, z(2026, 3, 29, 0, 59), z(2026, 3, 29, 23, 59), "a")],  # 00:59 GMT → 00:59 BST
    ),
    (
        "london-daily-handoff-just-after-gap",
        rot("Europe/London", DAY, datetime(2026, 3, 29, 2, 0)),
        z(2026, 3, 29, 0),
        z(2026, 3, 29, 2),
        [
            (-1, z(2026, 3, 28, 2), z(2026, 3, 29, 1), "c"),  # 02:00 GMT → 02:00 BST: 23h
            (0, z(2026, 3, 29, 1), z(2026, 3, 30, 1), "a"),
        ],
    ),
    (
        "london-daily-handoff-in-fold-takes-first",
        rot("Europe/London", DAY, datetime(2026, 10, 25, 1, 30)),
        z(2026, 10, 24, 12),
        z(2026, 10, 25, 12),
        [
            (-1, z(2026, 10, 24, 0, 30), z(2026, 10, 25, 0, 30), "c"),  # 01:30 BST
            (0, z(2026, 10, 25, 0, 30), z(2026, 10, 26, 1, 30), "a"),  # 1st 01:30 → 01:30 GMT
        ],
    ),
    (
        "london-daily-handoff-just-before-fold",
        rot("Europe/London", DAY, datetime(2026, 10, 25, 0, 59)),
        z(2026, 10, 25, 0),
        z(2026, 10, 25, 1),
        [(0, z(2026, 10, 24, 23, 59), z(2026, 10, 26, 0, 59), "a")],  # BST → GMT: 25h
    ),
    (
        "london-daily-handoff-just-after-fold",
        rot("Europe/London", DAY, datetime(2026, 10, 25, 2, 0)),
        z(2026, 10, 25, 1),
        z(2026, 10, 25, 3),
        [
            (-1, z(2026, 10, 24, 1), z(2026, 10, 25, 2), "c"),  # 02:00 BST → 02:00 GMT: 25h
            (0, z(2026, 10, 25, 2), z(2026, 10, 26, 2), "a"),
        ],
    ),
    (
        "london-hourly-spring-drops-gap-start",
        rot("Europe/London", HOUR, datetime(2026, 3, 29, 0, 0)),
        z(2026, 3, 29, 0),
        z(2026, 3, 29, 3),
        [
            (0, z(2026, 3, 29, 0), z(2026, 3, 29, 1), "a"),  # 00:00 GMT
            # 01:00 (b) is missing: → 02:00 BST, which is also 02:00's start
            (2, z(2026, 3, 29, 1), z(2026, 3, 29, 2), "c"),
            (3, z(2026, 3, 29, 2), z(2026, 3, 29, 3), "a"),  # 03:00 BST
        ],
    ),
    (
        "london-hourly-autumn-2h",
        rot("Europe/London", HOUR, datetime(2026, 10, 25, 0, 0)),
        z(2026, 10, 24, 23),
        z(2026, 10, 25, 3),
        [
            (0, z(2026, 10, 24, 23), z(2026, 10, 25, 0), "a"),  # 00:00 BST
            (1, z(2026, 10, 25, 0), z(2026, 10, 25, 2), "b"),  # 1st 01:00 BST → 02:00 GMT
            (2, z(2026, 10, 25, 2), z(2026, 10, 25, 3), "c"),
        ],
    ),
    (
        "london-12h-spring",
        rot("Europe/London", timedelta(hours=12), datetime(2026, 3, 28, 21, 0)),
        z(2026, 3, 28, 21),
        z(2026, 3, 29, 21),
        [
            (0, z(2026, 3, 28, 21), z(2026, 3, 29, 8), "a"),  # 21:00 GMT → 09:00 BST: 11h
            (1, z(2026, 3, 29, 8), z(2026, 3, 29, 20), "b"),  # → 21:00 BST
            (2, z(2026, 3, 29, 20), z(2026, 3, 30, 8), "c"),
        ],
    ),
    (
        "new-york-weekly-spring-167h",
        rot("America/New_York", WEEK, datetime(2026, 3, 2, 9, 0)),  # a Monday
        z(2026, 3, 2, 14),
        z(2026, 3, 9, 14),
        [
            (0, z(2026, 3, 2, 14), z(2026, 3, 9, 13), "a"),  # Mon 09:00 EST → Mon 09:00 EDT
            (1, z(2026, 3, 9, 13), z(2026, 3, 16, 13), "b"),
        ],
    ),
    (
        "new-york-weekly-autumn-169h",
        rot("America/New_York", WEEK, datetime(2026, 3, 2, 9, 0)),
        z(2026, 10, 26, 13),
        z(2026, 11, 2, 15),
        [
            # 2 Mar → 26 Oct is 238 days = 34 weeks; 34 % 3 = 1
            (34, z(2026, 10, 26, 13), z(2026, 11, 2, 14), "b"),  # 09:00 EDT → 09:00 EST
            (35, z(2026, 11, 2, 14), z(2026, 11, 9, 14), "c"),
        ],
    ),
    (
        "new-york-daily-0230-in-gap",
        rot("America/New_York", DAY, datetime(2026, 3, 7, 2, 30)),
        z(2026, 3, 7, 7, 30),
        z(2026, 3, 9, 7),
        [
            (0, z(2026, 3, 7, 7, 30), z(2026, 3, 8, 7), "a"),  # 02:30 EST → gap end 03:00 EDT
            (1, z(2026, 3, 8, 7), z(2026, 3, 9, 6, 30), "b"),  # → 02:30 EDT
            (2, z(2026, 3, 9, 6, 30), z(2026, 3, 10, 6, 30), "c"),
        ],
    ),
    (
        "new-york-daily-0130-in-fold",
        rot("America/New_York", DAY, datetime(2026, 10, 31, 1, 30)),
        z(2026, 11, 1, 6),
        z(2026, 11, 1, 7),
        [(1, z(2026, 11, 1, 5, 30), z(2026, 11, 2, 6, 30), "b")],  # 1st 01:30 EDT → EST
    ),
    (
        "new-york-hourly-autumn",
        rot("America/New_York", HOUR, datetime(2026, 11, 1, 0, 0)),
        z(2026, 11, 1, 4),
        z(2026, 11, 1, 8),
        [
            (0, z(2026, 11, 1, 4), z(2026, 11, 1, 5), "a"),  # 00:00 EDT
            (1, z(2026, 11, 1, 5), z(2026, 11, 1, 7), "b"),  # 1st 01:00 EDT → 02:00 EST
            (2, z(2026, 11, 1, 7), z(2026, 11, 1, 8), "c"),
        ],
    ),
    (
        "chicago-12h-spring",
        rot("America/Chicago", timedelta(hours=12), datetime(2026, 3, 7, 20, 0)),
        z(2026, 3, 8, 2),
        z(2026, 3, 9, 1),
        [
            (0, z(2026, 3, 8, 2), z(2026, 3, 8, 13), "a"),  # 20:00 CST → 08:00 CDT: 11h
            (1, z(2026, 3, 8, 13), z(2026, 3, 9, 1), "b"),  # → 20:00 CDT
        ],
    ),
    (
        "chicago-12h-autumn",
        rot("America/Chicago", timedelta(hours=12), datetime(2026, 10, 31, 20, 0)),
        z(2026, 11, 1, 1),
        z(2026, 11, 2, 2),
        [
            (0, z(2026, 11, 1, 1), z(2026, 11, 1, 14), "a"),  # 20:00 CDT → 08:00 CST: 13h
            (1, z(2026, 11, 1, 14), z(2026, 11, 2, 2), "b"),
        ],
    ),
    (
        "chicago-daily-handoff-at-gap-start",
        rot("America/Chicago", DAY, datetime(2026, 3, 7, 2, 0)),
        z(2026, 3, 7, 8),
        z(2026, 3, 9, 8),
        [
            (0, z(2026, 3, 7, 8), z(2026, 3, 8, 8), "a"),  # 02:00 CST; 02:00 missing → 03:00 CDT
            (1, z(2026, 3, 8, 8), z(2026, 3, 9, 7), "b"),  # → 02:00 CDT: 23h
            (2, z(2026, 3, 9, 7), z(2026, 3, 10, 7), "c"),
        ],
    ),
    (
        "chicago-hourly-two-members-skip-a-turn",
        rot("America/Chicago", HOUR, datetime(2026, 3, 8, 1, 0), ("a", "b")),
        z(2026, 3, 8, 7),
        z(2026, 3, 8, 9),
        [
            (0, z(2026, 3, 8, 7), z(2026, 3, 8, 8), "a"),  # 01:00 CST
            # 02:00 (b) is missing and lands on 03:00 CDT, shift 2's start: b's turn is skipped
            (2, z(2026, 3, 8, 8), z(2026, 3, 8, 9), "a"),
        ],
    ),
    (
        "lord-howe-daily-autumn-24h30",
        rot("Australia/Lord_Howe", DAY, datetime(2026, 4, 4, 9, 0)),
        z(2026, 4, 3, 22),
        z(2026, 4, 4, 23),
        [
            (0, z(2026, 4, 3, 22), z(2026, 4, 4, 22, 30), "a"),  # 09:00 +11 → 09:00 +10:30
            (1, z(2026, 4, 4, 22, 30), z(2026, 4, 5, 22, 30), "b"),
        ],
    ),
    (
        "lord-howe-daily-0145-in-fold",
        rot("Australia/Lord_Howe", DAY, datetime(2026, 4, 4, 1, 45)),
        z(2026, 4, 4, 15),
        z(2026, 4, 4, 16),
        [(1, z(2026, 4, 4, 14, 45), z(2026, 4, 5, 15, 15), "b")],  # 1st 01:45 +11 → +10:30
    ),
    (
        "lord-howe-hourly-autumn-90min",
        rot("Australia/Lord_Howe", HOUR, datetime(2026, 4, 5, 0, 0)),
        z(2026, 4, 4, 13),
        z(2026, 4, 4, 16),
        [
            (0, z(2026, 4, 4, 13), z(2026, 4, 4, 14), "a"),  # 00:00 +11
            (1, z(2026, 4, 4, 14), z(2026, 4, 4, 15, 30), "b"),  # 01:00 +11 → 02:00 +10:30
            (2, z(2026, 4, 4, 15, 30), z(2026, 4, 4, 16, 30), "c"),
        ],
    ),
    (
        "lord-howe-hourly-spring-30min",
        rot("Australia/Lord_Howe", HOUR, datetime(2026, 10, 4, 0, 0)),
        z(2026, 10, 3, 13, 30),
        z(2026, 10, 3, 16, 30),
        [
            (0, z(2026, 10, 3, 13, 30), z(2026, 10, 3, 14, 30), "a"),  # 00:00 +10:30
            (1, z(2026, 10, 3, 14, 30), z(2026, 10, 3, 15, 30), "b"),
            (2, z(2026, 10, 3, 15, 30), z(2026, 10, 3, 16), "c"),  # 02:00 missing → 02:30 +11
            (3, z(2026, 10, 3, 16), z(2026, 10, 3, 17), "a"),  # 03:00 +11
        ],
    ),
    (
        "lord-howe-daily-0215-in-gap",
        rot("Australia/Lord_Howe", DAY, datetime(2026, 10, 3, 2, 15)),
        z(2026, 10, 3, 0),
        z(2026, 10, 4, 0),
        [
            (0, z(2026, 10, 2, 15, 45), z(2026, 10, 3, 15, 30), "a"),  # 02:15 +10:30 → gap end
            (1, z(2026, 10, 3, 15, 30), z(2026, 10, 4, 15, 15), "b"),  # → 02:15 +11
        ],
    ),
    (
        "lord-howe-12h-spring",
        rot("Australia/Lord_Howe", timedelta(hours=12), datetime(2026, 10, 3, 14, 0)),
        z(2026, 10, 3, 3, 30),
        z(2026, 10, 4, 4),
        [
            (0, z(2026, 10, 3, 3, 30), z(2026, 10, 3, 15, 30), "a"),  # 14:00 +10:30 → gap end
            (1, z(2026, 10, 3, 15, 30), z(2026, 10, 4, 3), "b"),  # → 14:00 +11: 11h30
            (2, z(2026, 10, 4, 3), z(2026, 10, 4, 15), "c"),
        ],
    ),
    (
        "tokyo-weekly-no-dst",
        rot("Asia/Tokyo", WEEK, datetime(2026, 3, 2, 10, 0)),
        z(2026, 3, 28, 0),
        z(2026, 4, 6, 0),
        [
            (3, z(2026, 3, 23, 1), z(2026, 3, 30, 1), "a"),  # 10:00 +09 every Monday
            (4, z(2026, 3, 30, 1), z(2026, 4, 6, 1), "b"),
        ],
    ),
    (
        "utc-daily-long-before-handoff",
        rot("UTC", DAY, datetime(2026, 1, 1, 0, 0), ("a", "b", "c", "d")),
        z(1999, 12, 31, 23, 30),
        z(2000, 1, 1, 0, 0),
        # 31 Dec 1999 → 1 Jan 2026 is 9498 days; -9498 % 4 = 2
        [(-9498, z(1999, 12, 31), z(2000, 1, 1), "c")],
    ),
    (
        "utc-hourly-far-after-handoff",
        rot("UTC", HOUR, datetime(2026, 1, 1, 0, 0)),
        z(2040, 6, 1, 12, 34),
        z(2040, 6, 1, 13, 0),
        # 1 Jan 2026 → 1 Jun 2040 is 5265 days; 5265 * 24 + 12 = 126372 = 3 * 42124
        [(126372, z(2040, 6, 1, 12), z(2040, 6, 1, 13), "a")],
    ),
]


def _rows(found: list[Shift]) -> list[tuple[int, datetime, datetime, str | None]]:
    return [(s.index, s.start, s.end, s.member) for s in found]


@pytest.mark.parametrize(
    ("rotation", "start", "end", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_shifts_in_window(rotation, start, end, expected):
    assert _rows(shifts(rotation, start, end)) == expected


@pytest.mark.parametrize(
    ("rotation", "expected"),
    [pytest.param(case[1], case[4], id=case[0]) for case in CASES],
)
def test_shift_at_both_edges(rotation, expected):
    for row in expected:
        _, start, end, _ = row
        assert _rows([shift_at(rotation, start)]) == [row]
        assert _rows([shift_at(rotation, end - timedelta(microseconds=1))]) == [row]


def test_shift_at_accepts_any_offset():
    rotation = rot("Europe/London", DAY, datetime(2026, 1, 5, 9))
    paris = datetime(2026, 3, 29, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))  # 08:00Z
    assert shift_at(rotation, paris).start == z(2026, 3, 29, 8)


def test_naive_instant_is_refused():
    rotation = rot("UTC", DAY, datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="no time zone"):
        shift_at(rotation, datetime(2026, 1, 1, 12))


def test_empty_window():
    rotation = rot("UTC", DAY, datetime(2026, 1, 1))
    assert shifts(rotation, z(2026, 1, 2), z(2026, 1, 2)) == []
    assert shifts(rotation, z(2026, 1, 3), z(2026, 1, 2)) == []


def test_rotation_without_members_still_tiles():
    rotation = rot("UTC", DAY, datetime(2026, 1, 1), ())
    found = shifts(rotation, z(2026, 1, 1), z(2026, 1, 3))
    assert _rows(found) == [
        (0, z(2026, 1, 1), z(2026, 1, 2), None),
        (1, z(2026, 1, 2), z(2026, 1, 3), None),
    ]


def test_minute_shifts_across_a_gap_stay_fast_and_skip_missing_minutes():
    # The 60 one-minute local starts 01:00..01:59 (indices 60..119) fall in
    # London's gap and all land on 01:00Z, as does 02:00 BST (index 120):
    # they have no length and are dropped.
    rotation = rot("Europe/London", timedelta(minutes=1), datetime(2026, 3, 29, 0, 0))
    assert _rows(shifts(rotation, z(2026, 3, 29, 0, 59), z(2026, 3, 29, 1, 1))) == [
        (59, z(2026, 3, 29, 0, 59), z(2026, 3, 29, 1), "c"),  # 59 % 3 = 2
        (120, z(2026, 3, 29, 1), z(2026, 3, 29, 1, 1), "a"),  # 02:00 BST, 120 % 3 = 0
    ]
