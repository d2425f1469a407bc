"""The pure parts of the console's part 2: schedule blocks and days, the strips'
geometry, handoff notices, the report's statistics, the charts' escaping."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest

from pager.core.handoff import due_notices, lead_time
from pager.core.page_text import gsm7_length, handoff_notice
from pager.core.report import IncidentRow, PageRow, Rows, build, p90, spread
from pager.core.schedule import blocks, days
from pager.policy.model import Person, Policy, Rotation, RotationOverride, WorkingHours
from pager.web.charts import bars, columns
from pager.web.forms import Refused, moment
from pager.web.schedule_view import colours, week

DAILY = Rotation(
    id="daily",
    timezone="Europe/London",
    shift=timedelta(days=1),
    handoff=datetime(2026, 1, 5, 9, 0),
    members=("alice", "bob", "carol"),
    handoff_notice=timedelta(hours=1),
)
PEOPLE = tuple(
    Person(id=p, phone=f"+1555010000{n}") for n, p in enumerate(("alice", "bob", "carol"))
)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_blocks_tile_the_period_and_the_spring_shift_is_23_hours() -> None:
    found = blocks(DAILY, utc(2026, 3, 27), utc(2026, 3, 31))
    assert all(a.end == b.start for a, b in itertools.pairwise(found))
    lengths = {(b.start.date(), b.end - b.start) for b in found}
    assert (date(2026, 3, 28), timedelta(hours=23)) in lengths
    assert found[0].start <= utc(2026, 3, 27) < found[0].end


def test_an_override_cuts_a_block_where_it_starts_and_ends() -> None:
    cover = RotationOverride(
        person="carol", replaces="bob", start=utc(2026, 3, 25, 12), end=utc(2026, 3, 25, 18)
    )
    found = blocks(DAILY, utc(2026, 3, 25, 9), utc(2026, 3, 26, 9), [cover])
    assert [(b.person, b.override is not None) for b in found] == [
        ("bob", False),
        ("carol", True),
        ("bob", False),
    ]


@pytest.mark.parametrize(
    ("day", "hours"), [(date(2026, 3, 29), 23), (date(2026, 10, 25), 25), (date(2026, 3, 30), 24)]
)
def test_a_local_day_lasts_as_long_as_the_clock_says(day: date, hours: int) -> None:
    [found] = days(day, 1, "Europe/London")
    assert found.hours == hours


def test_the_week_strips_are_as_wide_as_their_days_are_long() -> None:
    found = blocks(DAILY, utc(2026, 3, 22), utc(2026, 3, 30))
    strips = week(
        found, date(2026, 3, 23), "Europe/London", utc(2026, 3, 25, 12), str, colours(DAILY.members)
    )
    widths = {s.day.day: s.width for s in strips if s.day}
    assert widths[date(2026, 3, 29)] == pytest.approx(100 * 23 / 24, abs=0.01)
    assert widths[date(2026, 3, 28)] == 100
    sunday = strips[-1]
    assert sunday.unusual == "23 h: the clocks go forward"
    # 06:00 BST on the 29th is 5 hours after midnight GMT: 5/23 of the strip.
    assert [m.label for m in sunday.marks] == ["00", "06", "12", "18"]
    assert sunday.marks[1].x == pytest.approx(100 * 5 / 23, abs=0.01)
    assert [s.today for s in strips].index(True) == 2
    assert strips[2].now == pytest.approx(50.0)
    assert sum(seg.width for seg in sunday.segments) == pytest.approx(100, abs=0.01)


def test_notices_are_due_at_the_lead_time_for_a_real_handoff_only() -> None:
    policy = Policy(people=PEOPLE, rotations=(DAILY,))
    assert due_notices(policy, {}, utc(2026, 3, 25, 7, 59)) == []
    [notice] = due_notices(policy, {}, utc(2026, 3, 25, 8, 0))
    assert (notice.person, notice.start, notice.end) == (
        "bob",
        utc(2026, 3, 25, 9),
        utc(2026, 3, 26, 9),
    )
    assert due_notices(policy, {}, utc(2026, 3, 25, 9, 0)) == []  # begun: too late
    off = policy.model_copy(
        update={
            "people": (PEOPLE[0], PEOPLE[1].model_copy(update={"handoff_notice": "off"}), PEOPLE[2])
        }
    )
    assert lead_time(off, DAILY, "bob") is None
    assert due_notices(off, {}, utc(2026, 3, 25, 8, 0)) == []


def test_the_notice_is_one_gsm7_segment_even_for_long_names() -> None:
    text = handoff_notice(
        "r" * 128, utc(2026, 3, 25, 9), utc(2026, 3, 26, 9), "Europe/London", [("e" * 128, 1)] * 3
    )
    assert gsm7_length(text) <= 160
    assert "from Wed 25 Mar 09:00 Europe/London until Thu 26 Mar 09:00" in text


def test_p90_is_the_nearest_rank_and_the_median_the_middle() -> None:
    assert p90([]) is None
    assert p90([5.0]) == 5.0
    assert p90([float(n) for n in range(1, 11)]) == 9.0  # ceil(0.9 * 10) = 9th
    assert p90([float(n) for n in range(1, 12)]) == 10.0  # ceil(9.9) = 10th
    assert spread([1.0, 3.0, 10.0, 20.0]).median_seconds == 6.5


def test_time_on_incidents_counts_overlaps_once_and_stays_in_the_period() -> None:
    since, until = utc(2026, 3, 1), utc(2026, 3, 2)

    def incident(n: int, ack: datetime, fixed: datetime | None) -> IncidentRow:
        return IncidentRow(n, "P1", "t", ack, ack, "alice", fixed, False, (1, 0))

    rows = Rows(
        (
            incident(1, utc(2026, 3, 1, 1), utc(2026, 3, 1, 3)),
            incident(2, utc(2026, 3, 1, 2), utc(2026, 3, 1, 4)),  # overlaps the first by 1h
            incident(3, utc(2026, 3, 1, 23), None),  # still open: until the period's end
        ),
        (PageRow("alice", utc(2026, 3, 1, 1), 1), PageRow("alice", utc(2026, 3, 2, 1), 1)),
    )
    hours = {"alice": WorkingHours().in_zone("UTC")}  # 2026-03-01 is a Sunday
    [alice] = build(rows, hours, {}, since, until).people
    assert alice.incident_seconds == 4 * 3600
    assert (alice.pages, alice.out_of_hours) == (1, 1)  # the second page is after the period


def test_charts_escape_their_text_and_carry_their_numbers() -> None:
    chart = str(bars([("<b>x</b>", (2.0, 1.0))], "Pages", ("in", "out")))
    assert "<b>" not in chart
    assert "&lt;b&gt;x&lt;/b&gt;: 2 in, 1 out" in chart
    assert 'role="img"' in str(columns([("5 Jan", 3)], "Incidents per week"))


def test_form_times_are_read_in_the_zone_given() -> None:
    assert moment("2026-03-29T01:30", "Europe/London", "start") == utc(2026, 3, 29, 1, 0)  # gap
    assert moment("2026-03-29T09:00+01:00", "UTC", "start") == utc(2026, 3, 29, 8, 0)
    with pytest.raises(Refused, match="is not a time"):
        moment("tomorrow", "UTC", "start")
    with pytest.raises(Refused, match="Unknown time zone"):
        moment("2026-03-29T09:00", "Mars/Olympus", "start")
