"""Response hours of a priority: is `now` inside, and when does the window open next.

Windows are local wall-clock times on the given weekdays; `to` before `from`
means the window runs past midnight (it belongs to the day it starts on).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from pager.core.rotation import local_instant
from pager.policy.model import Hours, minutes_of, weekdays


def windows_around(hours: Hours, now: datetime) -> list[tuple[datetime, datetime]]:
    """The windows that start from the day before `now` up to a week after it."""
    zone = ZoneInfo(hours.timezone)
    days = weekdays(hours.days)
    start_min, end_min = minutes_of(hours.from_), minutes_of(hours.to)
    today = now.astimezone(zone).replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
    found = []
    for offset in range(-1, 9):
        day = today + timedelta(days=offset)
        if day.weekday() not in days:
            continue
        end_day = day if end_min > start_min else day + timedelta(days=1)
        start = local_instant(day + timedelta(minutes=start_min), zone)
        end = local_instant(end_day + timedelta(minutes=end_min), zone)
        found.append((start, end))
    return found


def in_hours(hours: Hours, now: datetime) -> bool:
    return any(start <= now < end for start, end in windows_around(hours, now))


def next_opening(hours: Hours, now: datetime) -> datetime:
    """When the next window opens after `now` (now itself if inside one)."""
    for start, end in windows_around(hours, now):
        if start <= now < end:
            return now
        if start > now:
            return start
    raise ValueError(f"hours {hours.days} never open")  # weekdays() never returns empty
