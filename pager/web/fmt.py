"""How the console writes times and durations: pure, for the templates.

Times are shown in the viewer's own time zone (their `timezone` in the
policy), with the zone's abbreviation, so "03:12 GMT" means the same thing to
the person woken and to the log; the exact instant is in `<time datetime>`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo


def duration(delta: timedelta) -> str:
    """`45 s`, `12 min`, `3 h 5 min`, `2 d 4 h`: two units at most, rounded down."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if hours < 1:
        return f"{minutes} min"
    if days < 1:
        rest = minutes % 60
        return f"{hours} h {rest} min" if rest else f"{hours} h"
    rest = hours % 24
    return f"{days} d {rest} h" if rest else f"{days} d"


def local(moment: datetime, zone: str, now: datetime | None = None, seconds: bool = False) -> str:
    """`03:12 GMT` today, `Tue 5 Jan 03:12 GMT` on another day (in `zone`)."""
    tz = ZoneInfo(zone)
    here = moment.astimezone(tz)
    clock = f"{here:%H:%M:%S}" if seconds else f"{here:%H:%M}"
    clock += f" {here.tzname()}"
    if now is not None and now.astimezone(tz).date() == here.date():
        return clock
    return f"{here:%a} {here.day} {here:%b} {clock}"


def iso(moment: datetime) -> str:
    return moment.isoformat()


def day(moment: datetime, zone: str) -> str:
    """`Mon 12 Jan 2026`, the day of `moment` in `zone`."""
    here = moment.astimezone(ZoneInfo(zone))
    return f"{here:%a} {here.day} {here:%b %Y}"


def seconds(value: float | None) -> str:
    """A figure in seconds as `duration` writes it; `—` for none."""
    return "—" if value is None else duration(timedelta(seconds=value))
