"""The words of the domain, defined once: incident and notification states,
notification kinds, channels and timeline event kinds.

The database keeps them as plain strings (its columns are `String`); a
`StrEnum` member equals its value, so rows written before these enums existed
read back the same and no migration is needed. Code names the member, never
the bare string, so a typo is an AttributeError (and a mypy error) instead of
a query that silently matches nothing.

`Channel` is a word of the policy file (`notify: [{channel: sms}]`), and the
policy layer sits below this one, so it is defined in `pager.policy.model` and
re-exported here for everyone else.
"""

from __future__ import annotations

from enum import StrEnum

from pager.policy.model import CHANNELS as CHANNELS
from pager.policy.model import Channel as Channel


class IncidentState(StrEnum):
    TRIGGERED = "triggered"  # open and not acknowledged: the engine pages
    ACKNOWLEDGED = "acknowledged"  # someone has it; pages again if the ack expires
    RESOLVED = "resolved"  # closed: nothing more is sent for it but notices


class NotificationState(StrEnum):
    """A notification row's place in the outbox (store/models.py `Notification`)."""

    PENDING = "pending"  # waiting for its due_at
    SENDING = "sending"  # claimed by a sender (lease, deadline)
    SENT = "sent"  # the provider accepted it
    DELIVERED = "delivered"  # the provider's callback says it arrived
    FAILED_TEMP = "failed_temp"  # to be retried at due_at
    FAILED_PERM = "failed_perm"  # this channel cannot reach this person
    UNKNOWN = "unknown"  # may have left: the provider is asked (engine/unknown.py)
    CANCELLED = "cancelled"  # no longer wanted (acknowledged, resolved, superseded)
    THROTTLED = "throttled"  # folded into a bundle or a digest


class NotificationKind(StrEnum):
    PAGE = "page"  # wakes someone; may be acknowledged
    BUNDLE = "bundle"  # several pages folded into one by the throttle
    INFO = "info"  # stakeholder updates, resolve notices, reminders, digests: never acks


PAGE_KINDS = (NotificationKind.PAGE, NotificationKind.BUNDLE)


class EventKind(StrEnum):
    """The kind of an incident timeline event (store/models.py `Event`)."""

    OPENED = "opened"
    SUPPRESSED = "suppressed"  # recorded in a maintenance window, not paged
    MAINTENANCE_ENDED = "maintenance_ended"
    ALERT_ADDED = "alert_added"
    ALERT_REFIRED = "alert_refired"
    ALERT_RESOLVED = "alert_resolved"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    ESCALATE_REQUESTED = "escalate_requested"
    # The escalation core's notes (core/escalation.py).
    LEVEL = "level"
    LEVEL_SKIPPED = "level_skipped"
    EMPTY_ROTATION = "empty_rotation"
    REPEAT = "repeat"
    EXHAUSTED = "exhausted"
    HELD = "held"
    RELEASED = "released"
    UPGRADED = "upgraded"
    ACK_EXPIRED = "ack_expired"
    # Delivery.
    LEVEL_UNREACHABLE = "level_unreachable"
    UNKNOWN_ESCALATED = "unknown_escalated"  # a send of unknown fate: the next level now
    UNREACHABLE = "unreachable"
    FALLBACK = "fallback"
    THROTTLED = "throttled"
    NOTIFICATION_SENT = "notification_sent"
    NOTIFICATION_DELIVERED = "notification_delivered"
    NOTIFICATION_FAILED_TEMP = "notification_failed_temp"
    NOTIFICATION_FAILED_PERM = "notification_failed_perm"
    NOTIFICATION_UNKNOWN = "notification_unknown"
    NOTIFICATION_NOT_FOUND = "notification_not_found"
    NOTIFICATION_UNANSWERED = "notification_unanswered"
    STAKEHOLDERS_TOLD = "stakeholders_told"
    STEP_FAILED = "step_failed"  # the engine's step for this incident raised
    # Heartbeats.
    HEARTBEAT_MISSING = "heartbeat_missing"
    HEARTBEAT_BACK = "heartbeat_back"
    # People and practice.
    STATUS_UPDATE = "status_update"
    REVIEWED = "reviewed"
    REVIEW_WRITTEN = "review_written"
    REVIEW_REMINDED = "review_reminded"
    ACTION_ITEM_ADDED = "action_item_added"
    ACTION_ITEM_UPDATED = "action_item_updated"


def notification_event(state: NotificationState) -> EventKind:
    """The timeline event that records a notification reaching `state`."""
    return EventKind(f"notification_{state}")
