"""Each acting Twilio request once: a replay is answered as the first one was.

Keys: an inbound SMS by its MessageSid, a keypress by its CallSid and digits.
A replay is counted (`pager_inbound_replayed_total{channel}`) and changes
nothing; one that comes while the first is still being handled gets an empty
answer (no reply SMS, the call hangs up).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from pager.core.vocabulary import Channel
from pager.services import Pager
from pager.store import inbound
from pager.twilio_hooks import twiml

log = logging.getLogger(__name__)


async def once(pager: Pager, channel: str, key: str, answer: Callable[[], Awaitable[str]]) -> str:
    """The TwiML `answer()` gives, computed for the first request of `key` only."""
    if not await inbound.take(pager.db, key, pager.clock.now()):
        pager.metrics.inbound_replayed.labels(channel).inc()
        log.warning("replayed Twilio request answered without acting: %s", key)
        first = await inbound.first_reply(pager.db, key)
        return first or (twiml.empty_sms() if channel == Channel.SMS else twiml.hang_up())
    reply = await answer()
    await inbound.answered(pager.db, key, reply)
    return reply
