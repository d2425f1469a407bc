"""What the console's pages show, built from the store's rows and the policy.

Pure functions of their arguments (rows, policy, now), so the pages' wording
is tested without a browser. People are named as the policy names them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pager.core.escalation import level_number
from pager.core.vocabulary import Channel, IncidentState, NotificationState
from pager.policy.model import Policy, PriorityDef
from pager.store.models import Incident, Notification
from pager.web.fmt import duration

DELIVERY: dict[str, str] = {
    NotificationState.PENDING: "waiting",
    NotificationState.SENDING: "sending",
    NotificationState.SENT: "sent",
    NotificationState.DELIVERED: "delivered",
    NotificationState.FAILED_TEMP: "failed, retrying",
    NotificationState.FAILED_PERM: "failed",
    NotificationState.UNKNOWN: "unknown",
    NotificationState.CANCELLED: "cancelled",
    NotificationState.THROTTLED: "bundled",
}


def name_of(policy: Policy, person: str | None) -> str:
    if person is None:
        return "nobody"
    found = policy.person_by_id(person)
    return found.name if found is not None and found.name else person


def priority_rank(priority: str) -> int:
    match = re.fullmatch(r"P(\d+)", priority)
    return int(match[1]) if match else 99


@dataclass(frozen=True)
class Paged:
    person: str  # id
    name: str
    sends: tuple[str, ...]  # "SMS sent", "call waiting", newest last
    live: bool  # any of them not cancelled: still being paged


CHANNEL: dict[str, str] = {Channel.SMS: "SMS", Channel.VOICE: "call"}


@dataclass(frozen=True)
class Card:
    incident: Incident
    age: str
    status: str  # "Level 2 of 3, paging Bob Roe" / "Acknowledged by Alice Doe 4 min ago"
    paging: tuple[Paged, ...]
    mine: bool


def delivery(row: Notification) -> str:
    """A notification's state in words; a page sent on another channel after a
    failed one says it fell back."""
    state = DELIVERY.get(row.state, row.state)
    return f"fell back, {state}" if ":fb:" in row.key else state


def paged_people(policy: Policy, pages: Sequence[Notification]) -> tuple[Paged, ...]:
    """Each person paged, in the order they were first paged, with every page's
    channel and state."""
    by_person: dict[str, list[Notification]] = {}
    for page in pages:
        by_person.setdefault(page.person_id, []).append(page)
    return tuple(
        Paged(
            person,
            name_of(policy, person),
            tuple(f"{CHANNEL.get(r.channel, r.channel)} {delivery(r)}" for r in rows),
            any(r.state != NotificationState.CANCELLED for r in rows),
        )
        for person, rows in by_person.items()
    )


def status_line(incident: Incident, policy: Policy, now: datetime, paging: Sequence[Paged]) -> str:
    if incident.state == IncidentState.ACKNOWLEDGED and incident.acked_at is not None:
        ago = duration(now - incident.acked_at)
        return f"Acknowledged by {name_of(policy, incident.acked_by)} {ago} ago"
    if incident.state == IncidentState.RESOLVED and incident.resolved_at is not None:
        by = f"by {name_of(policy, incident.resolved_by)} " if incident.resolved_by else ""
        return f"Resolved {by}{duration(now - incident.resolved_at)} ago"
    if incident.suppressed:
        return "In a maintenance window: recorded, nobody paged"
    if incident.held:
        return f"Held: outside {incident.priority} hours, paged when they begin"
    levels = _levels(policy, incident)
    if incident.level < 0:
        return "Not paged yet"
    text = f"Level {level_number(incident.level)}" + (f" of {levels}" if levels else "")
    if incident.exhausted:
        text += ", every level paged, nobody acknowledged"
    live = [p.name for p in paging if p.live]
    return text + (f", paging {', '.join(live)}" if live else "")


def _levels(policy: Policy, incident: Incident) -> int:
    try:
        return len(policy.escalation(incident.escalation_policy).levels)
    except StopIteration:
        return 0


def card(
    incident: Incident,
    policy: Policy,
    pages: Sequence[Notification],
    viewer: str,
    now: datetime,
) -> Card:
    paging = paged_people(policy, pages)
    mine = incident.acked_by == viewer or any(p.person == viewer for p in paging)
    return Card(
        incident,
        duration(now - incident.created_at),
        status_line(incident, policy, now, paging),
        paging,
        mine,
    )


def expectation(incident: Incident, policy: Policy) -> list[str]:
    """What the priority promises, in sentences, for the incident page."""
    prio = policy.priorities.get(incident.priority) or PriorityDef()
    lines = [prio.description] if prio.description else []
    channels = " and ".join("a call" if c == Channel.VOICE else "SMS" for c in prio.channels)
    if prio.hours == "always":
        lines.append(f"Pages by {channels}, at any hour.")
    else:
        hours = prio.hours
        lines.append(
            f"Pages by {channels} {hours.days} {hours.from_}–{hours.to} {hours.timezone}; "
            "outside those hours it waits for them."
        )
    lines.extend(_timeouts(incident, policy))
    if prio.ack_expires:
        lines.append(
            f"An acknowledgement lasts {duration(prio.ack_expires)}: unresolved after that, "
            "paging starts again."
        )
    if prio.upgrade_to and prio.upgrade_after:
        after = duration(prio.upgrade_after)
        lines.append(f"Unresolved after {after} of paging it becomes {prio.upgrade_to}.")
    return lines


def _timeouts(incident: Incident, policy: Policy) -> list[str]:
    try:
        levels = policy.escalation(incident.escalation_policy).levels
    except StopIteration:
        return []
    index = min(max(incident.level, 0), len(levels) - 1)
    wait = levels[index].ack_timeout
    if index == len(levels) - 1 or wait is None:
        return [f"Level {level_number(index)} is the last: nobody further to escalate to."]
    targets = ", ".join(levels[index + 1].targets)
    return [
        f"Acknowledge within {duration(wait)} of level {level_number(index)} being paged, "
        f"or level {level_number(index + 1)} ({targets}) is paged too."
    ]
