"""The post-incident review: Markdown from the incident's own record.

Blameless by construction: it lists what happened and when, who was paged and
how, and leaves the prompts (what happened, why, what we change) to the team.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from pager.store.models import ActionItem, Event, Incident, Notification


def duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def _when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S UTC") if at else "-"


def _detail(detail: dict[str, Any]) -> str:
    shown = {k: v for k, v in detail.items() if v not in (None, "", [], {})}
    return ", ".join(f"{k}={v}" for k, v in shown.items()).replace("|", "/")


def render_review(
    incident: Incident,
    events: Sequence[Event],
    notifications: Sequence[Notification],
    actions: Sequence[ActionItem],
) -> str:
    i = incident
    lines = [f"# Post-incident review: #{i.id} {i.title}", ""]
    if i.drill:
        lines += ["> DRILL: a game day exercise, not a real incident.", ""]
    started = f" (opened as {i.original_priority})" if i.original_priority != i.priority else ""
    lines += [
        f"- **Priority:** {i.priority}{started}",
        f"- **Escalation policy:** {i.escalation_policy}",
        f"- **State:** {i.state}",
        f"- **Opened:** {_when(i.created_at)}",
        f"- **Acknowledged:** {_when(i.acked_at)}" + (f" by {i.acked_by}" if i.acked_by else ""),
        f"- **Resolved:** {_when(i.resolved_at)}"
        + (f" by {i.resolved_by}" if i.resolved_by else ""),
        f"- **Time to acknowledge:** {_since(i, i.acked_at)}",
        f"- **Time to resolve:** {_since(i, i.resolved_at)}",
        f"- **Runbook:** {i.runbook_url or 'none'}",
        "",
        "## Summary",
        "",
        i.summary or "_(no summary)_",
        "",
        *_paged(notifications),
        *_timeline(i, events),
        *_actions(actions),
        "## What happened",
        "",
        "_In plain words, for someone who was not there._",
        "",
        "## Why it happened",
        "",
        "_Contributing causes, not culprits: what made this possible or hard to see?_",
        "",
        "## What we change",
        "",
        "_Each change becomes an action item with an owner and a due date._",
        "",
    ]
    return "\n".join(lines)


def _since(i: Incident, at: datetime | None) -> str:
    return duration(at - i.created_at) if at else "-"


def _paged(notifications: Sequence[Notification]) -> list[str]:
    rows = [
        "## Who was paged and how",
        "",
        "| person | channel | kind | sent | outcome |",
        "|---|---|---|---|---|",
    ]
    rows += [
        f"| {n.person_id} | {n.channel} | {n.kind} | {_when(n.sent_at)} | {n.state} |"
        for n in notifications
    ]
    return [*rows, ""] if notifications else ["## Who was paged and how", "", "Nobody.", ""]


def _timeline(i: Incident, events: Sequence[Event]) -> list[str]:
    rows = [
        "## Timeline",
        "",
        "| time | since open | event | who | detail |",
        "|---|---|---|---|---|",
    ]
    rows += [
        f"| {_when(e.at)} | +{duration(e.at - i.created_at)} | {e.kind} | "
        f"{e.actor or ''} | {_detail(e.detail)} |"
        for e in events
    ]
    return [*rows, ""]


def _actions(actions: Sequence[ActionItem]) -> list[str]:
    if not actions:
        return ["## Action items", "", "_None yet: add them with `pager actions add`._", ""]
    rows = ["## Action items", "", "| # | item | owner | due | state |", "|---|---|---|---|---|"]
    rows += [
        f"| {a.id} | {a.title} | {a.owner} | {a.due.date().isoformat()} | {a.state} |"
        for a in actions
    ]
    return [*rows, ""]
