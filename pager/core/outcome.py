"""What one send came to, as its transport reports it.

The core's outbox state machine (pager.core.delivery) decides from it; the
transports (pager.notify) only report it. It lives here, below both, so the
pure core does not depend on the transports.
"""

from __future__ import annotations

import enum


class Outcome(enum.StrEnum):
    ACCEPTED = "accepted"  # the provider took it; delivery status may follow
    TEMPORARY = "temporary"  # try again later (429, 5xx, timeout before sending)
    PERMANENT = "permanent"  # this channel cannot reach this person (bad number, STOP)
    UNKNOWN = "unknown"  # we cannot tell whether it was sent (timeout after sending)
