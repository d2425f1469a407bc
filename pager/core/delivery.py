"""What a send's outcome means for its notification row (the outbox state machine).

pending -> sending -> sent -> delivered
                   -> failed_temp -> (retried with backoff, or Retry-After, until the
                                      level's ack timeout) -> ... -> failed_perm
                   -> failed_perm (falls back to the person's next channel)
                   -> unknown -> (ask the provider) found: sent | not found: pending
                                 | cannot ask: P1 sent once more, P2 escalated early

`unknown` means only "the request may have reached the provider": a row whose
request never started goes back to `pending` instead (see engine/sender.py).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pager.core.outcome import Outcome
from pager.core.vocabulary import PAGE_KINDS, NotificationKind, NotificationState

FIRST_BACKOFF = timedelta(seconds=10)
MAX_BACKOFF = timedelta(minutes=5)
# A message that is no page (info, bundle) is retried this long at most.
RETRY_WINDOW = timedelta(hours=1)
# How long after an unknown send the provider is asked: its list can lag a request.
LOOKUP_DELAY = timedelta(seconds=5)
FAILED_STATUSES = frozenset({"undelivered", "failed", "no-answer", "busy", "canceled"})
# A status callback may come late or out of order: never move backwards.
STATUS_RANK = {
    NotificationState.SENDING: 0,
    NotificationState.UNKNOWN: 1,
    NotificationState.SENT: 2,
    "queued": 2,
    "ringing": 3,
    "in-progress": 4,
    "answered": 4,
    NotificationState.DELIVERED: 5,
    "completed": 5,
    NotificationState.FAILED_PERM: 6,
}


@dataclass(frozen=True)
class Fate:
    state: NotificationState
    retry_at: datetime | None = None  # failed_temp: when to try again
    check_at: datetime | None = None  # unknown: when to ask the provider
    fall_back: bool = False  # try the person's next channel
    gave_up: bool = False  # temporary failures lasted past the row's retry window


def backoff(attempts: int) -> timedelta:
    # The exponent is capped: attempts are unbounded now, a timedelta is not.
    delay: timedelta = FIRST_BACKOFF * 2 ** min(max(0, attempts - 1), 16)
    return min(delay, MAX_BACKOFF)


def retry_delay(attempts: int, retry_after: float | None) -> timedelta:
    """Our backoff, or the provider's Retry-After when that asks for longer."""
    delay = backoff(attempts)
    if retry_after is not None and retry_after > 0:
        delay = max(delay, timedelta(seconds=min(retry_after, 3600.0)))
    return delay


def after_send(
    outcome: Outcome,
    attempts: int,
    kind: str,
    now: datetime,
    give_up_at: datetime,
    retry_after: float | None = None,
) -> Fate:
    """A temporary failure is retried with backoff until `give_up_at` (a page: its
    level's ack timeout), the last try at that instant; failing then, the channel
    counts as failed and the person's next channel is tried."""
    if outcome is Outcome.ACCEPTED:
        return Fate(NotificationState.SENT)
    if outcome is Outcome.UNKNOWN:
        return Fate(NotificationState.UNKNOWN, check_at=now + LOOKUP_DELAY)
    if outcome is Outcome.TEMPORARY and now < give_up_at:
        retry_at = min(now + retry_delay(attempts, retry_after), give_up_at)
        return Fate(NotificationState.FAILED_TEMP, retry_at=retry_at)
    gave_up = outcome is Outcome.TEMPORARY
    return Fate(NotificationState.FAILED_PERM, fall_back=kind in PAGE_KINDS, gave_up=gave_up)


def give_up_at(
    kind: str,
    created_at: datetime,
    row_step: int,
    incident_step: int | None,
    escalate_at: datetime | None,
    now: datetime,
) -> datetime:
    """Until when a temporary failure is retried: a page until its level's ack
    timeout (`escalate_at`; at once when the incident has moved past its level
    or has no level left to wait for), anything else for RETRY_WINDOW."""
    if kind != NotificationKind.PAGE or incident_step is None:
        return created_at + RETRY_WINDOW
    if row_step < incident_step or escalate_at is None:
        return now
    return escalate_at


class Unanswered(enum.StrEnum):
    """What to do with an unknown send that the provider could not be asked about."""

    RESEND = "resend"  # one more copy: a duplicate beats a miss
    ESCALATE = "escalate"  # the next level now, instead of at the ack timeout
    GIVE_UP = "give_up"  # an info message: not worth a duplicate


def unanswered(kind: str, priority: str, is_resend: bool) -> Unanswered:
    if kind in PAGE_KINDS and priority == "P1" and not is_resend:
        return Unanswered.RESEND
    if kind == NotificationKind.PAGE:
        return Unanswered.ESCALATE
    return Unanswered.GIVE_UP


def pick_unclaimed(candidates: Sequence[str], known: set[str]) -> str | None:
    """The provider's oldest message to that number that no other row recorded."""
    return next((sid for sid in candidates if sid not in known), None)


def first_page_latency(
    alert_received_at: datetime | None, earlier_sent: bool, now: datetime
) -> float | None:
    """Seconds from alert to the incident's first page handed to the provider;
    None for any other page. Only a page planned for the moment paging began
    carries `alert_received_at` (not later levels, delayed rules, re-pages or
    releases after a hold)."""
    if alert_received_at is None or earlier_sent:
        return None
    return max(0.0, (now - alert_received_at).total_seconds())


def status_moves(current: str, new: str) -> bool:
    """Whether a provider status may replace the stored one (monotonic)."""
    return STATUS_RANK.get(new, 0) > STATUS_RANK.get(current, 0)


def other_channels(
    rules_channels: Sequence[str], allowed: Sequence[str], tried: set[str]
) -> list[str]:
    """The person's channels not yet tried, in their notify order, then any allowed."""
    ordered = [c for c in [*rules_channels, *allowed] if c in allowed]
    return [c for c in dict.fromkeys(ordered) if c not in tried]
