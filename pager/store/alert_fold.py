"""How a batch of webhooks changes incidents: a pure fold over what the batch read.

`fold(parts, read, now)` applies each part (one webhook's alerts) in order to
an in-memory copy of the rows the batch read, exactly as recording the parts
one by one would change the database: same incidents opened and resolved,
same alert rows, same timeline events in the same order, and each part's own
result. It does no I/O and reads no clock; `pager.store.alert_writes` reads
before and writes after it.

The one thing it cannot know in advance is which open incidents hold an alert
that arrives resolved under a key with no open incident (a generic resolve by
its key alone, or a policy changed meanwhile). Such a lookup that was not read
is noted in `Folded.needs`; the caller reads those and folds again.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pager.core.alert import AlertIn
from pager.core.classify import Classification
from pager.core.grouping import incident_title, runbook_for
from pager.core.via import Via
from pager.core.vocabulary import EventKind, IncidentState
from pager.store.alert_batch import (
    Classified,
    Folded,
    IngestContext,
    Outcome,
    Pair,
    Part,
    Read,
    Row,
    Working,
)
from pager.store.models import MaintenanceWindow


def fold(parts: Sequence[Part], read: Read, classified: Classified, now: datetime) -> Folded:
    state = _State(read, now)
    results = [state.part(p, classified) for p in parts]
    return Folded(results, state.incidents, state.events, state.written, state.needs)


class _State:
    def __init__(self, read: Read, now: datetime) -> None:
        self.read, self.now = read, now
        self.incidents = [
            Working(i.id, i.open_key, i.group_key, i.state, i.id, _copy(read.alerts.get(i.id)))
            for i in sorted(read.incidents.values(), key=lambda i: i.id)
        ]
        self.by_key = {w.open_key: w for w in self.incidents if w.open_key is not None}
        self.events: list[tuple[Working, Row]] = []
        self.written: dict[tuple[int, str], tuple[Working, Row]] = {}
        self.needs: set[Pair] = set()
        self._order = itertools.count(max(read.incidents, default=0) + 1)

    def part(self, part: Part, classified: Classified) -> Outcome[Working]:
        result, seen = Outcome[Working](), dict[str, Working | None]()
        touched: dict[Working, None] = {}  # in the order first touched
        opened: set[Working] = set()
        for alert in part.alerts:
            c, key = classified.key(part.ctx.classify, alert)
            if key not in seen:
                seen[key] = self.by_key.get(key)
            incident = seen[key]
            if alert.status == "resolved":
                incident = incident or self._holder(alert)
                if incident is None:
                    result.ignored += 1
                    continue
                seen[incident.open_key or key] = incident
                self._resolve_alert(incident, alert)
            else:
                if incident is None:
                    incident = seen[key] = self._open(key, alert, c, part.ctx)
                    opened.add(incident)
                    result.opened.append(incident)
                    result.opened_priorities.append(c.priority)
                self._fire_alert(incident, alert, new=incident in opened)
            touched.setdefault(incident)
        result.touched = list(touched)
        for incident in result.touched:
            if incident.state != IncidentState.RESOLVED and not incident.firing():
                self._resolve(incident, Via(part.alerts[0].source))
                result.resolved.append(incident)
        return result

    def _holder(self, alert: AlertIn) -> Working | None:
        """The first open incident of the alert's group that holds it firing."""
        pair = (alert.group_key, alert.fingerprint)
        if pair not in self.read.pairs:
            self.needs.add(pair)
        holders = (
            w
            for w in self.incidents
            if w.open_key is not None
            and w.group_key == alert.group_key
            and w.alerts.get(alert.fingerprint, {}).get("status") == "firing"
        )
        return min(holders, key=lambda w: w.order, default=None)

    def _open(self, key: str, alert: AlertIn, c: Classification, ctx: IngestContext) -> Working:
        window = ctx.suppressed(alert.labels)
        values = _incident_row(key, alert, c, ctx, window, self.now)
        incident = Working(
            None, key, alert.group_key, IncidentState.TRIGGERED, next(self._order), {}, values
        )
        self.incidents.append(incident)
        self.by_key[key] = incident
        self._event(
            incident,
            EventKind.OPENED,
            alert.source,
            priority=c.priority,
            escalation=c.escalation,
            rule="default" if c.rule_index is None else f"rules[{c.rule_index}]",
            title=values["title"],
            drill=ctx.drill,
        )
        if window is not None:
            self.events.append((incident, suppressed_event(window, self.now)))
        return incident

    def _fire_alert(self, incident: Working, alert: AlertIn, *, new: bool) -> None:
        row = incident.alerts.get(alert.fingerprint)
        if row is None:
            row = incident.alerts[alert.fingerprint] = _alert_row(alert, self.now)
            if not new:
                self._event(
                    incident,
                    EventKind.ALERT_ADDED,
                    alert.source,
                    fingerprint=alert.fingerprint,
                    labels=dict(alert.labels),
                )
        else:
            if row["status"] == "resolved":
                self._event(
                    incident, EventKind.ALERT_REFIRED, alert.source, fingerprint=alert.fingerprint
                )
            row.update(status="firing", last_seen=self.now, count=row["count"] + 1)
            row["annotations"] = dict(alert.annotations)
        self.written[(id(incident), alert.fingerprint)] = (incident, row)

    def _resolve_alert(self, incident: Working, alert: AlertIn) -> None:
        row = incident.alerts.get(alert.fingerprint)
        if row is None or row["status"] == "resolved":
            return
        row.update(status="resolved", ends_at=alert.ends_at or self.now, last_seen=self.now)
        self.written[(id(incident), alert.fingerprint)] = (incident, row)
        self._event(incident, EventKind.ALERT_RESOLVED, alert.source, fingerprint=alert.fingerprint)

    def _resolve(self, incident: Working, via: Via) -> None:
        self.by_key.pop(incident.open_key or "", None)
        incident.state, incident.open_key = IncidentState.RESOLVED, None
        if incident.values is not None:
            incident.values.update(
                state=IncidentState.RESOLVED,
                open_key=None,
                resolved_at=self.now,
                next_action_at=self.now,
            )
        self._event(incident, EventKind.RESOLVED, None, via=via, reason="all alerts resolved")

    def _event(self, incident: Working, kind: EventKind, actor: str | None, **detail: Any) -> None:
        self.events.append((incident, event_row(self.now, kind, actor, **detail)))


def event_row(at: datetime, kind: EventKind, actor: str | None, **detail: Any) -> Row:
    return {"at": at, "kind": kind, "actor": actor, "detail": detail}


def suppressed_event(window: MaintenanceWindow, now: datetime) -> Row:
    """The timeline event of an incident held back (recorded, not paged) by a window."""
    return event_row(
        now,
        EventKind.SUPPRESSED,
        None,
        maintenance_window=window.id,
        window_start=window.start.isoformat(),
        window_end=window.end.isoformat(),
        reason=window.reason,
    )


def _copy(alerts: Mapping[str, Row] | None) -> dict[str, Row]:
    return {fp: dict(row) for fp, row in (alerts or {}).items()}


def _incident_row(
    key: str,
    alert: AlertIn,
    c: Classification,
    ctx: IngestContext,
    window: MaintenanceWindow | None,
    now: datetime,
) -> Row:
    return {
        "group_key": alert.group_key,
        "open_key": key,
        "source": alert.source,
        "title": incident_title(alert.labels),
        "summary": alert.annotations.get("summary", ""),
        "runbook_url": runbook_for(alert.annotations, c.runbook),
        "labels": dict(alert.labels),
        "priority": c.priority,
        "original_priority": c.priority,
        "escalation_policy": c.escalation,
        "rule_index": c.rule_index,
        "policy_version_id": ctx.policy_version_id,
        "state": IncidentState.TRIGGERED,
        "drill": ctx.drill,
        "suppressed": window is not None,
        "created_at": now,
        "resolved_at": None,
        "level": -1,
        "loop": 0,
        "step": 0,
        "next_action_at": window.end if window is not None else now,
    }


def _alert_row(alert: AlertIn, now: datetime) -> Row:
    return {
        "fingerprint": alert.fingerprint,
        "status": "firing",
        "labels": dict(alert.labels),
        "annotations": dict(alert.annotations),
        "starts_at": alert.starts_at,
        "ends_at": None,
        "generator_url": alert.generator_url,
        "first_seen": now,
        "last_seen": now,
        "count": 1,
    }
