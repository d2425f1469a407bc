"""What console forms share: a refusal said for a person, and times as typed.

A `datetime-local` field has no zone: it is read in the zone the form names
(the rotation's, or the viewer's), with the rotation rules for clock changes
(a time the clocks skip is the first instant after the jump). A value with an
offset (the hidden fields of a shift's own form) is that instant.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pager.core.rotation import local_instant


class Refused(Exception):
    pass


def moment(raw: str | None, zone: str, what: str) -> datetime:
    """An instant with an offset as it is; a `datetime-local` value in `zone`."""
    if not raw:
        raise Refused(f"Give the {what} time.")
    try:
        parsed = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise Refused(f"{raw!r} is not a time like 2026-03-29T09:00.") from None
    if parsed.tzinfo is not None:
        return parsed
    try:
        return local_instant(parsed, ZoneInfo(zone))
    except (ZoneInfoNotFoundError, ValueError):
        raise Refused(f"Unknown time zone {zone!r}.") from None
