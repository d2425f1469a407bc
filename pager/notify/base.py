"""The Notifier protocol: how the engine hands one message to a provider.

Transports report, they don't retry: `send` returns what happened and the
outbox (engine/sender.py) decides about retries, backoff and fallback.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from pager.policy.model import Channel


class Outcome(enum.StrEnum):
    ACCEPTED = "accepted"  # the provider took it; delivery status may follow
    TEMPORARY = "temporary"  # try again later (429, 5xx, timeout before sending)
    PERMANENT = "permanent"  # this channel cannot reach this person (bad number, STOP)
    UNKNOWN = "unknown"  # we cannot tell whether it was sent (timeout after sending)


class Kind(enum.StrEnum):
    PAGE = "page"  # wakes someone; may be acknowledged
    BUNDLE = "bundle"  # several pages folded into one by the throttle
    INFO = "info"  # stakeholder updates, resolve notices, reminders: never acks


@dataclass(frozen=True, slots=True)
class Message:
    notification_id: int
    incident_id: int | None
    person_id: str
    phone: str
    channel: Channel
    kind: Kind
    body: str


@dataclass(frozen=True, slots=True)
class SendResult:
    outcome: Outcome
    provider_id: str | None = None  # Twilio's MessageSid / CallSid
    error: str | None = None
    code: int | None = None  # provider error code, e.g. Twilio 21211


class Notifier(Protocol):
    async def send(self, message: Message) -> SendResult: ...

    async def close(self) -> None: ...
