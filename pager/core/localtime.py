"""Wall-clock to instant, with the DST rules pager uses everywhere.

A local time inside a spring-forward gap means the first instant after the
gap; a local time that happens twice (fall back) means the first occurrence.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo


def to_instant(local: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant of a naive local wall-clock time in `zone`."""
    first = local.replace(tzinfo=zone, fold=0)
    instant = first.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == local:
        return instant  # exists (fold=0 picks the first of two)
    # In a gap: the gap ends where the offset after it starts.
    after = local.replace(tzinfo=zone, fold=1).astimezone(UTC)
    before = first.astimezone(UTC)
    return _gap_end(min(before, after), max(before, after) + timedelta(hours=3), zone)


def _gap_end(lo: datetime, hi: datetime, zone: ZoneInfo) -> datetime:
    """First instant whose UTC offset differs from lo's: binary search to the second."""
    offset = lo.astimezone(zone).utcoffset()
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        if mid.astimezone(zone).utcoffset() == offset:
            lo = mid
        else:
            hi = mid
    return hi.replace(microsecond=0) if hi.microsecond else hi
