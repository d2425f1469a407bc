"""JSON shapes of the admin API (what `GET /api/v1/incidents/{id}` shows)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pager.core.drills import DrillOutcome
from pager.core.escalation import level_number
from pager.core.vocabulary import IncidentState
from pager.store.models import Alert, Event, Incident, Notification


def incident_summary(i: Incident) -> dict[str, Any]:
    return {
        "id": i.id,
        "title": i.title,
        "summary": i.summary,
        "priority": i.priority,
        "original_priority": i.original_priority,
        "state": i.state,
        "source": i.source,
        "escalation_policy": i.escalation_policy,
        "runbook_url": i.runbook_url,
        "labels": i.labels,
        "drill": i.drill,
        "drill_outcome": drill_outcome(i),
        "drill_ends_at": i.drill_ends_at,
        "suppressed": i.suppressed,
        "created_at": i.created_at,
        "acked_at": i.acked_at,
        "acked_by": i.acked_by,
        "resolved_at": i.resolved_at,
        "resolved_by": i.resolved_by,
        "escalation": {
            "level": level_number(i.level),  # 1 the first level; 0 not paged yet
            "loop": i.loop,
            "step": i.step,
            "next_action_at": i.next_action_at,
            "held": i.held,
            "exhausted": i.exhausted,
        },
    }


def drill_outcome(i: Incident) -> str | None:
    """running, complete or unanswered for a drill; None for a real incident."""
    if not i.drill or (i.drill_outcome is None and i.state == IncidentState.RESOLVED):
        return i.drill_outcome  # a drill resolved before outcomes were recorded: None
    return i.drill_outcome or DrillOutcome.RUNNING


def alert_view(a: Alert) -> dict[str, Any]:
    return {
        "fingerprint": a.fingerprint,
        "status": a.status,
        "labels": a.labels,
        "annotations": a.annotations,
        "starts_at": a.starts_at,
        "ends_at": a.ends_at,
        "first_seen": a.first_seen,
        "last_seen": a.last_seen,
        "count": a.count,
        "generator_url": a.generator_url,
    }


def event_view(e: Event) -> dict[str, Any]:
    return {
        "at": e.at,
        "kind": e.kind,
        "actor": e.actor,
        **({"detail": e.detail} if e.detail else {}),
    }


def notification_view(n: Notification) -> dict[str, Any]:
    return {
        "id": n.id,
        "person": n.person_id,
        "channel": n.channel,
        "kind": n.kind,
        "state": n.state,
        "body": n.body,
        "due_at": n.due_at,
        "sent_at": n.sent_at,
        "delivered_at": n.delivered_at,
        "attempts": n.attempts,
        "error": n.error,
        "error_code": n.error_code,
        "provider_id": n.provider_id,
    }


def incident_detail(
    i: Incident, events: Sequence[Event], notifications: Sequence[Notification]
) -> dict[str, Any]:
    return {
        **incident_summary(i),
        "alerts": [alert_view(a) for a in i.alerts],
        "timeline": [event_view(e) for e in events],
        "notifications": [notification_view(n) for n in notifications],
    }
