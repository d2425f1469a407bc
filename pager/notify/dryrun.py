"""The dry-run notifier: records every page instead of sending it.

Used when no Twilio credentials are set (with a loud warning at start), so
`make run` works on any machine. Pages show in the log and in the incident's
notifications; nothing leaves the process. `find_sent` answers from what it
recorded, as a provider's message list would.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from datetime import datetime

from pager.core.outcome import Outcome
from pager.notify.base import Message, SendResult

log = logging.getLogger(__name__)


class DryRunNotifier:
    def __init__(self) -> None:
        self.sent: list[Message] = []
        self._ids: list[str] = []
        self._next = itertools.count(1)

    async def send(self, message: Message) -> SendResult:
        self.sent.append(message)
        self._ids.append(f"dryrun-{next(self._next)}")
        log.warning(
            "DRY RUN %s to %s: %s",
            message.channel,
            message.person_id,
            message.body,
            extra={
                "notification_id": message.notification_id,
                "incident_id": message.incident_id,
                "person": message.person_id,
            },
        )
        return SendResult(Outcome.ACCEPTED, provider_id=self._ids[-1])

    async def find_sent(self, message: Message, since: datetime) -> Sequence[str]:
        # Nothing is timed here, so `since` cannot narrow it; the body tells them apart.
        return [
            sid
            for sid, sent in zip(self._ids, self.sent, strict=True)
            if (sent.phone, sent.channel, sent.body)
            == (message.phone, message.channel, message.body)
        ]

    async def close(self) -> None:
        return None
