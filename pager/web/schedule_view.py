"""The schedule page's geometry: days and weeks as strips, blocks as percentages.

Pure. A strip is a stretch of real time (a local day in the week view, a
local week in the month view); a block's position and width are its share of
the strip's *elapsed* time, so the day the clocks go forward is drawn 23
hours long (its strip is 23/24 of a normal day's width) and every hour mark
sits where that hour really begins. The templates draw strips as SVG with
percentage coordinates (no inline styles: the console's CSP forbids them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from pager.core.schedule import Block, Day, clip, days

Names = Callable[[str | None], str]
TICK_HOURS = (0, 6, 12, 18)
PALETTE = 6  # person colours in console.css: .who-0 .. .who-5


@dataclass(frozen=True)
class Segment:
    x: float  # percent of the strip
    width: float
    block: Block  # clipped to the strip
    label: str  # "Alice Doe", or "⇄ Dave Moe (for Bob Roe)"
    colour: str  # css class: who-N, override, nobody


@dataclass(frozen=True)
class Mark:
    x: float
    label: str


@dataclass(frozen=True)
class Strip:
    start: datetime
    end: datetime
    width: float  # percent of the widest strip of the view
    segments: tuple[Segment, ...]
    marks: tuple[Mark, ...]  # hour marks (week view) or day boundaries (month view)
    now: float | None  # where now is, if inside
    day: Day | None = None  # the week view's day
    today: bool = False
    days: tuple[tuple[Day, float, bool], ...] = ()  # month view: (day, x, today)

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600

    @property
    def unusual(self) -> str:
        """`23 h: the clocks go forward` for a day that is not 24 hours long."""
        if self.day is None or round(self.hours, 2) == 24:
            return ""
        hours = f"{self.hours:g} h"
        return f"{hours}: the clocks go {'forward' if self.hours < 24 else 'back'}"


def _share(moment: datetime, start: datetime, end: datetime) -> float:
    return round(100 * (moment - start) / (end - start), 3)


def colours(members: Sequence[str]) -> dict[str, str]:
    return {person: f"who-{n % PALETTE}" for n, person in enumerate(members)}


def label(block: Block, names: Names) -> str:
    if block.person is None:
        return "nobody on call"
    if block.override is not None:
        instead = f" (for {names(block.scheduled)})" if block.scheduled else ""
        return f"⇄ {names(block.person)}{instead}"
    return names(block.person)


def _segments(
    found: Sequence[Block], start: datetime, end: datetime, names: Names, palette: dict[str, str]
) -> tuple[Segment, ...]:
    out = []
    for block in clip(found, start, end):
        if block.person is None:
            colour = "nobody"
        elif block.override is not None:
            colour = "override"
        else:
            colour = palette.get(block.person, f"who-{PALETTE - 1}")
        x = _share(block.start, start, end)
        width = _share(block.end, start, end) - x
        out.append(Segment(x, width, block, label(block, names), colour))
    return tuple(out)


def _hour_marks(day: Day, zone: ZoneInfo) -> tuple[Mark, ...]:
    marks = []
    at = day.start
    while at < day.end:
        local = at.astimezone(zone)
        if local.minute == 0 and local.hour in TICK_HOURS:
            marks.append(Mark(_share(at, day.start, day.end), f"{local:%H}"))
        at += timedelta(hours=1)
    return tuple(marks)


def _now(now: datetime, start: datetime, end: datetime) -> float | None:
    return _share(now, start, end) if start <= now < end else None


def week(
    found: Sequence[Block],
    first: date,
    zone: str,
    now: datetime,
    names: Names,
    palette: dict[str, str],
) -> list[Strip]:
    """Seven day strips from `first`, widths in proportion to their hours."""
    tz = ZoneInfo(zone)
    shown = days(first, 7, zone)
    longest = max(d.end - d.start for d in shown)
    today = now.astimezone(tz).date()
    return [
        Strip(
            d.start,
            d.end,
            round(100 * (d.end - d.start) / longest, 3),
            _segments(found, d.start, d.end, names, palette),
            _hour_marks(d, tz),
            _now(now, d.start, d.end),
            day=d,
            today=d.day == today,
        )
        for d in shown
    ]


def month(
    found: Sequence[Block],
    first: date,
    zone: str,
    now: datetime,
    names: Names,
    palette: dict[str, str],
) -> list[Strip]:
    """Week strips (Monday to Sunday) covering the month of `first`."""
    tz = ZoneInfo(zone)
    start = first.replace(day=1)
    monday = start - timedelta(days=start.weekday())
    following = (start + timedelta(days=32)).replace(day=1)
    weeks = (following - monday).days // 7 + (1 if (following - monday).days % 7 else 0)
    today = now.astimezone(tz).date()
    strips = []
    for n in range(weeks):
        shown = days(monday + timedelta(days=7 * n), 7, zone)
        begin, end = shown[0].start, shown[-1].end
        placed = tuple((d, _share(d.start, begin, end), d.day == today) for d in shown)
        strips.append(
            Strip(
                begin,
                end,
                100.0,
                _segments(found, begin, end, names, palette),
                tuple(Mark(x, "") for _, x, _ in placed[1:]),
                _now(now, begin, end),
                days=placed,
            )
        )
    return strips


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())
