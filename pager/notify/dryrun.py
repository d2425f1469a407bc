"""The dry-run notifier: records every page instead of sending it.

Used when no Twilio credentials are set (with a loud warning at start), so
`make run` works on any machine. Pages show in the log and in the incident's
notifications; nothing leaves the process.
"""

from __future__ import annotations

import itertools
import logging

from pager.notify.base import Message, Outcome, SendResult

log = logging.getLogger(__name__)


class DryRunNotifier:
    def __init__(self) -> None:
        self.sent: list[Message] = []
        self._ids = itertools.count(1)

    async def send(self, message: Message) -> SendResult:
        self.sent.append(message)
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
        return SendResult(Outcome.ACCEPTED, provider_id=f"dryrun-{next(self._ids)}")

    async def close(self) -> None:
        return None
