"""How a drill (a game day incident) ends. Pure: time is a parameter.

A drill ends when it has its answer: someone acknowledges (or resolves) it, and
it is resolved at once as "drill complete", so it never pages again (no
`ack_expires` re-page, no "paging again" to stakeholders). Otherwise it ends
at its deadline, unanswered.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

DEFAULT_WAIT = timedelta(minutes=15)
MAX_WAIT = timedelta(days=1)
COMPLETE_REASON = "drill complete"
UNANSWERED_REASON = "drill ended unanswered"


class DrillOutcome(StrEnum):
    RUNNING = "running"
    COMPLETE = "complete"  # acknowledged (or resolved) by someone
    UNANSWERED = "unanswered"  # its deadline came first


def over(ends_at: datetime | None, now: datetime) -> bool:
    """The drill's deadline has come (a drill without one runs until answered)."""
    return ends_at is not None and now >= ends_at
