"""What a send's outcome means for its notification row (the outbox state machine).

pending -> sending -> sent -> delivered
                   -> failed_temp -> (retried with backoff) -> ... -> failed_perm
                   -> failed_perm (falls back to the person's next channel)
                   -> unknown     (a P1 page is sent once more: a duplicate beats a miss)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pager.notify.base import Outcome

MAX_ATTEMPTS = 5
FIRST_BACKOFF = timedelta(seconds=10)
MAX_BACKOFF = timedelta(minutes=5)
FAILED_STATUSES = frozenset({"undelivered", "failed", "no-answer", "busy", "canceled"})
# A status callback may come late or out of order: never move backwards.
STATUS_RANK = {
    "sending": 0,
    "unknown": 1,
    "sent": 2,
    "queued": 2,
    "ringing": 3,
    "in-progress": 4,
    "answered": 4,
    "delivered": 5,
    "completed": 5,
    "failed_perm": 6,
}


@dataclass(frozen=True)
class Fate:
    state: str
    retry_at: datetime | None = None
    fall_back: bool = False  # try the person's next channel
    resend: bool = False  # queue one more copy (unknown P1 page)


def backoff(attempts: int) -> timedelta:
    delay: timedelta = FIRST_BACKOFF * 2 ** max(0, attempts - 1)
    return min(delay, MAX_BACKOFF)


def after_send(
    outcome: Outcome, attempts: int, kind: str, priority: str, is_resend: bool, now: datetime
) -> Fate:
    if outcome is Outcome.ACCEPTED:
        return Fate("sent")
    if outcome is Outcome.TEMPORARY and attempts < MAX_ATTEMPTS:
        return Fate("failed_temp", retry_at=now + backoff(attempts))
    if outcome is Outcome.UNKNOWN:
        return Fate("unknown", resend=should_resend(kind, priority, is_resend))
    return Fate("failed_perm", fall_back=kind in ("page", "bundle"))


def should_resend(kind: str, priority: str, is_resend: bool) -> bool:
    return kind == "page" and priority == "P1" and not is_resend


def status_moves(current: str, new: str) -> bool:
    """Whether a provider status may replace the stored one (monotonic)."""
    return STATUS_RANK.get(new, 0) > STATUS_RANK.get(current, 0)


def other_channels(
    rules_channels: Sequence[str], allowed: Sequence[str], tried: set[str]
) -> list[str]:
    """The person's channels not yet tried, in their notify order, then any allowed."""
    ordered = [c for c in [*rules_channels, *allowed] if c in allowed]
    return [c for c in dict.fromkeys(ordered) if c not in tried]
