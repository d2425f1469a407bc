"""Timeline events in words, for the incident page. Pure.

Every kind the engine, ingest and actions write has a sentence; a kind this
module does not know yet is still shown, as its name and details, so nothing
that happened is hidden from the person running the incident.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pager.store.models import Event

Names = Callable[[str | None], str]
Phrase = Callable[[Mapping[str, Any], Names], str]

_SENT = {
    "notification_sent": "sent",
    "notification_delivered": "delivered",
    "notification_failed_temp": "failed for now (will retry)",
    "notification_failed_perm": "failed",
    "notification_unknown": "lost track of (unknown outcome)",
}


def _who(detail: Mapping[str, Any], names: Names, key: str = "person") -> str:
    return names(detail.get(key))


def _notification(kind: str) -> Phrase:
    def phrase(d: Mapping[str, Any], names: Names) -> str:
        what = "page" if d.get("message") in (None, "page") else str(d.get("message"))
        text = f"{d.get('channel', '')} {what} to {_who(d, names)} {_SENT[kind]}".strip()
        error = d.get("error")
        return f"{text}: {error}" if error else text

    return phrase


PHRASES: dict[str, Phrase] = {
    "opened": lambda d, _n: (
        f"opened as {d.get('priority')} by {d.get('rule')}, escalation {d.get('escalation')}"
    ),
    "suppressed": lambda d, _n: (
        f"recorded, not paged: maintenance window {d.get('maintenance_window')} "
        f"({d.get('reason') or 'no reason given'})"
    ),
    "maintenance_ended": lambda _d, _n: "maintenance window ended: paging from now",
    "alert_added": lambda d, _n: f"alert added ({_labels(d.get('labels'))})",
    "alert_refired": lambda _d, _n: "an alert fired again",
    "alert_resolved": lambda _d, _n: "an alert resolved",
    "level": lambda d, n: (
        f"level {d.get('level')} paged: {', '.join(n(p) for p in d.get('people', [])) or 'nobody'}"
    ),
    "level_skipped": lambda d, _n: f"level {d.get('level')} skipped: {d.get('reason')}",
    "empty_rotation": lambda d, _n: (
        f"nobody on call in {d.get('rotation')} (level {d.get('level')})"
    ),
    "level_unreachable": lambda _d, _n: "nobody of this level could be reached: moving on",
    "unreachable": lambda d, n: f"{_who(d, n)} cannot be reached on any channel",
    "fallback": lambda d, n: (
        f"fell back from {d.get('from_channel')} to {d.get('to_channel')} for {_who(d, n)}"
    ),
    "throttled": lambda d, n: f"{d.get('channel')} to {_who(d, n)} throttled into a bundle",
    "repeat": lambda d, _n: f"no answer: running the levels again (round {d.get('loop')})",
    "exhausted": lambda _d, _n: "no answer after every level: still open, nobody left to page",
    "held": lambda d, _n: f"held outside {d.get('priority')} hours, until {d.get('until')}",
    "released": lambda _d, _n: "released: within hours now, paging",
    "upgraded": lambda d, _n: f"upgraded from {d.get('from_priority')} to {d.get('to_priority')}",
    "ack_expired": lambda _d, _n: "acknowledgement expired unresolved: paging again",
    "stakeholders_told": lambda d, n: (
        f"stakeholders told ({d.get('what')}): {', '.join(n(p) for p in d.get('people', []))}"
    ),
    "status_update": lambda d, _n: f"status update: {d.get('text')}",
    "reviewed": lambda d, _n: (
        "review held" + (f" on {d['held_on'][:10]}" if d.get("held_on") else "")
    ),
    "review_written": lambda d, _n: f"review version {d.get('version')} saved",
    "action_item_added": lambda d, n: (
        f"action item {d.get('action_item')} added for {n(d.get('owner'))}: {d.get('title')}"
    ),
    "action_item_updated": lambda d, n: f"action item {d.get('action_item')} {_item_change(d, n)}",
    "review_reminded": lambda _d, _n: "reminded that the review is due",
    "heartbeat_back": lambda d, _n: f"heartbeat {d.get('heartbeat')} is back",
    **{kind: _notification(kind) for kind in _SENT},
}
WITH_AUTHOR = (
    "status_update",
    "reviewed",
    "review_written",
    "action_item_added",
    "action_item_updated",
)
ACTED = {"acknowledged": "acknowledged", "resolved": "resolved", "escalate_requested": "escalated"}


def _item_change(detail: Mapping[str, Any], names: Names) -> str:
    changes = detail.get("changes") or {}
    said = []
    if changes.get("owner"):
        said.append(f"now {names(changes['owner'])}'s")
    if changes.get("state") == "done":
        said.append("closed")
    if changes.get("due"):
        said.append(f"due {str(changes['due'])[:10]}")
    return ", ".join(said) or "changed"


def _labels(labels: Any) -> str:
    if not isinstance(labels, dict):
        return ""
    return ", ".join(f"{k}={v}" for k, v in sorted(labels.items()))


def describe(event: Event, names: Names) -> str:
    """One sentence for a timeline event, saying who did it and from where."""
    detail: Mapping[str, Any] = event.detail or {}
    if event.kind in ACTED:
        text = ACTED[event.kind] + (f" by {names(event.actor)}" if event.actor else "")
        if detail.get("via"):
            text += f" via {detail['via']}"
        reason = detail.get("reason")
        return f"{text} ({reason})" if reason else text
    phrase = PHRASES.get(event.kind)
    if phrase is not None:
        text = phrase(detail, names)
    else:
        text = event.kind.replace("_", " ") + (f" ({_labels(dict(detail))})" if detail else "")
    if event.actor and event.kind in WITH_AUTHOR:
        text += f" — {names(event.actor)}"
    return text
