"""Who is on call: overrides, target resolution and the reports behind `pager oncall`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pager.core.oncall import (
    EscalationReport,
    LevelReport,
    Resolution,
    RotationReport,
    level_report,
    oncall_report,
    resolve_targets,
)
from pager.core.rotation import can_be_empty, find_overlap, on_call
from pager.policy.model import (
    EscalationPolicy,
    Level,
    Person,
    Policy,
    Rotation,
    RotationOverride,
)

DAY = timedelta(days=1)


def z(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# Daily at 09:00 London from Monday 5 Jan 2026 (GMT, so 09:00Z): alice, bob, carol.
PRIMARY = Rotation(
    id="primary",
    timezone="Europe/London",
    shift=DAY,
    handoff=datetime(2026, 1, 5, 9, 0),
    members=("alice", "bob", "carol"),
)
NOBODY = Rotation(id="nobody", timezone="UTC", shift=DAY, handoff=datetime(2026, 1, 1), members=())
TUESDAY_NOON = z(2026, 1, 6, 12)  # bob's shift: 6 Jan 09:00Z → 7 Jan 09:00Z


def person(ident: str, n: int) -> Person:
    return Person(id=ident, phone=f"+1555010000{n}")


POLICY = Policy(
    people=tuple(person(p, n) for n, p in enumerate(["alice", "bob", "carol", "dave", "erin"])),
    rotations=(PRIMARY, NOBODY),
    escalation_policies=(
        EscalationPolicy(
            id="platform",
            levels=(
                Level(targets=("rotation:primary",), ack_timeout=timedelta(minutes=5)),
                Level(
                    targets=("rotation:nobody", "person:erin"), ack_timeout=timedelta(minutes=10)
                ),
                Level(targets=("person:erin", "rotation:primary", "person:bob")),
            ),
        ),
    ),
)


def cover(
    who: str, start: datetime, end: datetime, replaces: str | None = None
) -> RotationOverride:
    return RotationOverride(person=who, start=start, end=end, replaces=replaces)


# --- on_call -------------------------------------------------------------------


def test_plain_rotation():
    now = on_call(PRIMARY, TUESDAY_NOON)
    assert now.person == now.scheduled == "bob"
    assert (now.since, now.until) == (z(2026, 1, 6, 9), z(2026, 1, 7, 9))
    assert now.override is None
    assert now.next_person == "carol"


def test_whole_rotation_override_clips_the_shift():
    dave = cover("dave", z(2026, 1, 6, 11), z(2026, 1, 6, 15))
    now = on_call(PRIMARY, TUESDAY_NOON, [dave])
    assert (now.person, now.scheduled, now.override) == ("dave", "bob", dave)
    assert (now.since, now.until) == (z(2026, 1, 6, 11), z(2026, 1, 6, 15))
    assert now.next_person == "bob"  # bob gets his shift back at 15:00
    before = on_call(PRIMARY, z(2026, 1, 6, 10), [dave])
    assert (before.person, before.until, before.next_person) == ("bob", z(2026, 1, 6, 11), "dave")


def test_override_end_is_exclusive_and_start_inclusive():
    dave = cover("dave", z(2026, 1, 6, 11), z(2026, 1, 6, 15))
    assert on_call(PRIMARY, z(2026, 1, 6, 11), [dave]).person == "dave"
    assert on_call(PRIMARY, z(2026, 1, 6, 15), [dave]).person == "bob"


def test_replacing_override_applies_only_to_that_members_turns():
    # dave takes bob's turns for the whole week: only Tuesday's shift is bob's
    dave = cover("dave", z(2026, 1, 5), z(2026, 1, 12), replaces="bob")
    assert on_call(PRIMARY, z(2026, 1, 5, 12), [dave]).person == "alice"
    tuesday = on_call(PRIMARY, TUESDAY_NOON, [dave])
    assert (tuesday.person, tuesday.scheduled) == ("dave", "bob")
    assert (tuesday.since, tuesday.until, tuesday.next_person) == (
        z(2026, 1, 6, 9),
        z(2026, 1, 7, 9),
        "carol",
    )
    assert on_call(PRIMARY, z(2026, 1, 7, 12), [dave]).person == "carol"
    assert on_call(PRIMARY, z(2026, 1, 9, 12), [dave]).person == "dave"  # bob again (index 4)


def test_newest_override_wins_and_policy_overrides_come_first():
    rotation = PRIMARY.model_copy(
        update={"overrides": (cover("erin", z(2026, 1, 6, 10), z(2026, 1, 6, 20)),)}
    )
    assert on_call(rotation, TUESDAY_NOON).person == "erin"
    dave = cover("dave", z(2026, 1, 6, 11), z(2026, 1, 6, 13))
    now = on_call(rotation, TUESDAY_NOON, [dave])
    assert (now.person, now.since, now.until, now.next_person) == (
        "dave",
        z(2026, 1, 6, 11),
        z(2026, 1, 6, 13),
        "erin",
    )
    # the older override's end under the newer one changes nothing
    older_inside = cover("alice", z(2026, 1, 6, 11, 30), z(2026, 1, 6, 12, 30))
    assert on_call(rotation, TUESDAY_NOON, [older_inside, dave]).until == z(2026, 1, 6, 13)


def test_override_for_someone_else_does_not_split_the_shift():
    other = cover("dave", z(2026, 1, 6, 11), z(2026, 1, 6, 15), replaces="alice")
    now = on_call(PRIMARY, TUESDAY_NOON, [other])
    assert (now.person, now.since, now.until) == ("bob", z(2026, 1, 6, 9), z(2026, 1, 7, 9))


def test_naive_override_times_are_the_rotations_wall_clock():
    # 09:00–17:00 London on 1 July is 08:00–16:00Z (BST)
    dave = cover("dave", datetime(2026, 7, 1, 9), datetime(2026, 7, 1, 17))
    now = on_call(PRIMARY, z(2026, 7, 1, 15, 30), [dave])
    assert (now.person, now.until) == ("dave", z(2026, 7, 1, 16))
    assert on_call(PRIMARY, z(2026, 7, 1, 16), [dave]).person != "dave"


def test_empty_rotation_has_nobody_unless_a_whole_override():
    assert can_be_empty(NOBODY)
    assert not can_be_empty(PRIMARY)
    assert on_call(NOBODY, TUESDAY_NOON).person is None
    stand_in = cover("dave", z(2026, 1, 6), z(2026, 1, 7), replaces="alice")
    assert on_call(NOBODY, TUESDAY_NOON, [stand_in]).person is None
    whole = cover("dave", z(2026, 1, 6), z(2026, 1, 7))
    assert on_call(NOBODY, TUESDAY_NOON, [whole]).person == "dave"


def test_naive_instant_is_refused():
    with pytest.raises(ValueError, match="no time zone"):
        on_call(PRIMARY, datetime(2026, 1, 6, 12))


# --- find_overlap ---------------------------------------------------------------

BASE = cover("dave", z(2026, 1, 6, 9), z(2026, 1, 6, 17))
FOR_BOB = cover("dave", z(2026, 1, 6, 9), z(2026, 1, 6, 17), replaces="bob")


@pytest.mark.parametrize(
    ("existing", "new", "conflict"),
    [
        pytest.param(
            BASE, cover("erin", z(2026, 1, 6, 16), z(2026, 1, 6, 18)), True, id="whole-whole"
        ),
        pytest.param(
            BASE, cover("erin", z(2026, 1, 6, 17), z(2026, 1, 6, 18)), False, id="touching"
        ),
        pytest.param(BASE, cover("erin", z(2026, 1, 6, 1), z(2026, 1, 6, 9)), False, id="before"),
        pytest.param(
            BASE, cover("erin", z(2026, 1, 6, 10), z(2026, 1, 6, 11), "bob"), True, id="whole-one"
        ),
        pytest.param(
            FOR_BOB, cover("erin", z(2026, 1, 6, 10), z(2026, 1, 6, 11)), True, id="one-whole"
        ),
        pytest.param(
            FOR_BOB, cover("erin", z(2026, 1, 6, 8), z(2026, 1, 6, 20), "bob"), True, id="same-one"
        ),
        pytest.param(
            FOR_BOB, cover("erin", z(2026, 1, 6, 10), z(2026, 1, 6, 11), "al"), False, id="other"
        ),
        pytest.param(
            BASE, cover("erin", z(2026, 1, 6, 12), z(2026, 1, 6, 12)), False, id="empty-new"
        ),
        pytest.param(
            cover("erin", z(2026, 1, 6, 12), z(2026, 1, 6, 10)), BASE, False, id="empty-existing"
        ),
    ],
)
def test_find_overlap(existing, new, conflict):
    assert find_overlap([existing], new) == (existing if conflict else None)


def test_find_overlap_returns_the_first_conflict_and_reads_naive_times_in_the_zone():
    late = cover("erin", z(2026, 1, 6, 20), z(2026, 1, 6, 22))
    assert (
        find_overlap([late, BASE, FOR_BOB], cover("x", z(2026, 1, 6, 8), z(2026, 1, 6, 21))) == late
    )
    # 17:30 New York (EST) is 22:30Z: no overlap in UTC, an overlap in New York
    naive = cover("x", datetime(2026, 1, 6, 16), datetime(2026, 1, 6, 17, 30))
    assert find_overlap([late], naive) is None
    assert find_overlap([late], naive, timezone="America/New_York") == late


# --- resolve_targets and the reports ------------------------------------------------


def test_resolve_rotation_and_person_targets_in_order_without_duplicates():
    found = resolve_targets(
        POLICY, ("person:erin", "rotation:primary", "person:bob", "person:erin"), TUESDAY_NOON
    )
    assert found == Resolution(people=("erin", "bob"), empty=())


def test_resolve_uses_the_databases_overrides_by_rotation():
    overrides = {
        "primary": [cover("dave", z(2026, 1, 6), z(2026, 1, 7), replaces="bob")],
        "elsewhere": [cover("alice", z(2026, 1, 6), z(2026, 1, 7))],
    }
    found = resolve_targets(POLICY, ("rotation:primary",), TUESDAY_NOON, overrides)
    assert found.people == ("dave",)
    whole = {"primary": [cover("carol", z(2026, 1, 6), z(2026, 1, 7))]}
    assert resolve_targets(POLICY, ("rotation:primary",), TUESDAY_NOON, whole).people == ("carol",)


def test_empty_rotation_is_reported():
    found = resolve_targets(POLICY, ("rotation:nobody", "person:erin"), TUESDAY_NOON)
    assert found == Resolution(people=("erin",), empty=("rotation:nobody",))
    covered = {"nobody": [cover("dave", z(2026, 1, 6), z(2026, 1, 7))]}
    assert resolve_targets(POLICY, ("rotation:nobody",), TUESDAY_NOON, covered) == Resolution(
        people=("dave",), empty=()
    )


def test_unknown_targets_are_errors():
    with pytest.raises(KeyError, match="ghost"):
        resolve_targets(POLICY, ("rotation:ghost",), TUESDAY_NOON)
    with pytest.raises(ValueError, match="team:x"):
        resolve_targets(POLICY, ("team:x",), TUESDAY_NOON)


def test_oncall_report():
    overrides = {"primary": [cover("dave", z(2026, 1, 6, 11), z(2026, 1, 6, 15))]}
    primary, nobody = oncall_report(POLICY, TUESDAY_NOON, overrides)
    assert primary == RotationReport(
        rotation="primary",
        timezone="Europe/London",
        person="dave",
        since=z(2026, 1, 6, 11),
        until=z(2026, 1, 6, 15),
        scheduled="bob",
        override=overrides["primary"][0],
        next_person="bob",
    )
    assert (nobody.rotation, nobody.person, nobody.next_person) == ("nobody", None, None)
    assert (nobody.since, nobody.until) == (z(2026, 1, 6), z(2026, 1, 7))


def test_level_report():
    assert level_report(POLICY, TUESDAY_NOON) == [
        EscalationReport(
            escalation="platform",
            levels=(
                LevelReport(1, ("rotation:primary",), ("bob",), ()),
                LevelReport(2, ("rotation:nobody", "person:erin"), ("erin",), ("rotation:nobody",)),
                LevelReport(
                    3, ("person:erin", "rotation:primary", "person:bob"), ("erin", "bob"), ()
                ),
            ),
        )
    ]
