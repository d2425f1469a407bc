"""The Notifier protocol: how the engine hands one message to a provider, and
asks it afterwards whether a message whose fate is unknown went out.

Transports report, they don't retry: `send` returns what happened and the
outbox (engine/sender.py) decides about retries, backoff and fallback.
`find_sent` is how an `unknown` send is resolved instead of dropped or blindly
repeated (engine/unknown.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from pager.core.outcome import Outcome
from pager.core.vocabulary import Channel, NotificationKind

Kind = NotificationKind  # the transports' name for it (it changes the SMS validity period)


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
    retry_after: float | None = None  # seconds the provider asked us to wait (429, 503)


class LookupFailed(Exception):
    """The provider could not be asked (down, slow, refused): the fate stays unknown."""


class Notifier(Protocol):
    async def send(self, message: Message) -> SendResult:
        """One attempt; its time limit starts when the request starts."""
        ...

    async def find_sent(self, message: Message, since: datetime) -> Sequence[str]:
        """The provider ids of messages (or calls) on the message's channel to its
        phone from our number since `since` that could be this message, oldest
        first. Raises LookupFailed when the provider cannot be asked."""
        ...

    async def close(self) -> None: ...
