"""Repository functions for incidents, their alerts and their timeline.

Callers own the transaction (`Database.write()`); nothing here commits.
State changes that the engine must act on set `next_action_at = now`, so the
decision itself stays in the engine and its pure core.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from pager.core.classify import Classification
from pager.core.grouping import incident_key, incident_title, runbook_for
from pager.core.via import Via
from pager.ingest.payloads import AlertIn
from pager.store.models import Alert, Event, Incident, MaintenanceWindow, Notification

TRIGGERED, ACKNOWLEDGED, RESOLVED = "triggered", "acknowledged", "resolved"


class IncidentNotFound(LookupError):
    pass


@dataclass
class IngestResult:
    opened: list[int] = field(default_factory=list)
    opened_priorities: list[str] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    touched: set[int] = field(default_factory=set)
    ignored: int = 0


@dataclass(frozen=True)
class IngestContext:
    classify: Callable[[dict[str, str]], Classification]
    policy_version_id: int
    suppressed: Callable[[dict[str, str]], MaintenanceWindow | None] = lambda _labels: None
    drill: bool = False


def add_event(
    session: AsyncSession,
    incident_id: int,
    at: datetime,
    kind: str,
    actor: str | None = None,
    **detail: Any,
) -> None:
    session.add(Event(incident_id=incident_id, at=at, kind=kind, actor=actor, detail=detail))


async def record_alerts(
    session: AsyncSession, alerts: Sequence[AlertIn], ctx: IngestContext, now: datetime
) -> IngestResult:
    """Fold a webhook's alerts into incidents: open, update, resolve.

    Each incident's alerts are read once per webhook, and nothing is flushed
    until it must be: a webhook of ten alerts costs a handful of statements."""
    result = IngestResult()
    open_by_key: dict[str, Incident | None] = {}
    known = _KnownAlerts(session)
    with session.no_autoflush:
        for alert in alerts:
            c = ctx.classify(alert.labels)
            key = incident_key(alert.group_key, c.rule_index, c.group_by, alert.labels)
            if key not in open_by_key:
                open_by_key[key] = await _open_incident(session, key)
            incident = open_by_key[key]
            if alert.status == "resolved":
                incident = incident or await _incident_firing(session, alert)
                if incident is None:
                    result.ignored += 1
                    continue
                open_by_key[incident.open_key or key] = incident
                _resolve_alert(session, incident, await known.of(incident.id), alert, now)
            else:
                if incident is None:
                    incident = await _new_incident(session, key, alert, c, ctx, now)
                    open_by_key[key] = incident
                    known.new(incident.id)
                    result.opened.append(incident.id)
                    result.opened_priorities.append(incident.priority)
                rows = await known.of(incident.id)
                _fire_alert(session, incident, rows, alert, now, new=incident.id in result.opened)
            result.touched.add(incident.id)
    for incident in {i for i in open_by_key.values() if i is not None}:
        if incident.id in result.touched and not known.firing(incident.id):
            via = Via(alerts[0].source)  # one webhook: one source
            await resolve(session, incident, now, None, via, reason="all alerts resolved")
            result.resolved.append(incident.id)
    return result


class _KnownAlerts:
    """The alerts of the incidents one webhook touches, by fingerprint, read once each."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.by_incident: dict[int, dict[str, Alert]] = {}

    def new(self, incident_id: int) -> None:
        self.by_incident[incident_id] = {}

    async def of(self, incident_id: int) -> dict[str, Alert]:
        if incident_id not in self.by_incident:
            rows = await self.session.execute(select(Alert).where(Alert.incident_id == incident_id))
            self.by_incident[incident_id] = {a.fingerprint: a for a in rows.scalars()}
        return self.by_incident[incident_id]

    def firing(self, incident_id: int) -> bool:
        return any(a.status == "firing" for a in self.by_incident.get(incident_id, {}).values())


async def _incident_firing(session: AsyncSession, alert: AlertIn) -> Incident | None:
    """The open incident of the alert's group that holds it firing, whatever its labels
    meet now: a resolve may come without them (a generic one by its key alone)."""
    found = await session.execute(
        select(Incident)
        .join(Alert, Alert.incident_id == Incident.id)
        .where(
            Incident.open_key.is_not(None),
            Incident.group_key == alert.group_key,
            Alert.fingerprint == alert.fingerprint,
            Alert.status == "firing",
        )
        .order_by(Incident.id)
        .limit(1)
    )
    return found.scalars().first()


async def _open_incident(session: AsyncSession, key: str) -> Incident | None:
    found = await session.execute(select(Incident).where(Incident.open_key == key))
    return found.scalar_one_or_none()


async def _new_incident(
    session: AsyncSession,
    key: str,
    alert: AlertIn,
    c: Classification,
    ctx: IngestContext,
    now: datetime,
) -> Incident:
    window = ctx.suppressed(alert.labels)
    incident = Incident(
        group_key=alert.group_key,
        open_key=key,
        source=alert.source,
        title=incident_title(alert.labels),
        summary=alert.annotations.get("summary", ""),
        runbook_url=runbook_for(alert.annotations, c.runbook),
        labels=dict(alert.labels),
        priority=c.priority,
        original_priority=c.priority,
        escalation_policy=c.escalation,
        rule_index=c.rule_index,
        policy_version_id=ctx.policy_version_id,
        state=TRIGGERED,
        drill=ctx.drill,
        suppressed=window is not None,
        created_at=now,
        level=-1,
        loop=0,
        step=0,
        next_action_at=window.end if window is not None else now,
    )
    session.add(incident)
    await session.flush()
    rule = "default" if c.rule_index is None else f"rules[{c.rule_index}]"
    add_event(
        session,
        incident.id,
        now,
        "opened",
        alert.source,
        priority=c.priority,
        escalation=c.escalation,
        rule=rule,
        title=incident.title,
        drill=ctx.drill,
    )
    if window is not None:
        note_suppressed(session, incident.id, window, now)
    return incident


def note_suppressed(
    session: AsyncSession, incident_id: int, window: MaintenanceWindow, now: datetime
) -> None:
    """The timeline event of an incident held back (recorded, not paged) by a window."""
    add_event(
        session,
        incident_id,
        now,
        "suppressed",
        None,
        maintenance_window=window.id,
        window_start=window.start.isoformat(),
        window_end=window.end.isoformat(),
        reason=window.reason,
    )


def _fire_alert(
    session: AsyncSession,
    incident: Incident,
    rows: dict[str, Alert],
    alert: AlertIn,
    now: datetime,
    *,
    new: bool,
) -> None:
    row = rows.get(alert.fingerprint)
    if row is None:
        rows[alert.fingerprint] = row = Alert(
            incident_id=incident.id,
            fingerprint=alert.fingerprint,
            status="firing",
            labels=dict(alert.labels),
            annotations=dict(alert.annotations),
            starts_at=alert.starts_at,
            ends_at=None,
            generator_url=alert.generator_url,
            first_seen=now,
            last_seen=now,
            count=1,
        )
        session.add(row)
        if not new:
            add_event(
                session,
                incident.id,
                now,
                "alert_added",
                alert.source,
                fingerprint=alert.fingerprint,
                labels=dict(alert.labels),
            )
        return
    if row.status == "resolved":
        add_event(
            session, incident.id, now, "alert_refired", alert.source, fingerprint=alert.fingerprint
        )
    row.status, row.last_seen, row.count = "firing", now, row.count + 1
    row.annotations = dict(alert.annotations)


def _resolve_alert(
    session: AsyncSession, incident: Incident, rows: dict[str, Alert], alert: AlertIn, now: datetime
) -> None:
    row = rows.get(alert.fingerprint)
    if row is None or row.status == "resolved":
        return
    row.status, row.ends_at, row.last_seen = "resolved", alert.ends_at or now, now
    add_event(
        session, incident.id, now, "alert_resolved", alert.source, fingerprint=alert.fingerprint
    )


async def firing_count(session: AsyncSession, incident_id: int) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(Alert)
        .where(Alert.incident_id == incident_id, Alert.status == "firing")
    )
    return int(count or 0)


# --- state changes shared by the API, SMS replies and keypresses -------------
#
# LOCK ORDER (PostgreSQL): an incident is locked FOR NO KEY UPDATE, and its
# notification rows are changed before the incident row itself is written.
# The sender holds notification rows and then inserts timeline events, whose
# foreign key takes a KEY SHARE lock on the incident; NO KEY UPDATE does not
# conflict with that, and writing the incident last (clearing its unique
# open_key needs a full lock) means we never hold it while waiting for rows
# the sender holds. Database.transact retries the rare deadlock left.


async def get_for_update(session: AsyncSession, incident_id: int) -> Incident:
    found = await session.execute(
        select(Incident).where(Incident.id == incident_id).with_for_update(key_share=True)
    )
    incident = found.scalar_one_or_none()
    if incident is None:
        raise IncidentNotFound(f"no incident {incident_id}")
    return incident


async def acknowledge(
    session: AsyncSession, incident: Incident, now: datetime, by: str | None, via: Via
) -> bool:
    """Stop paging. False when there was nothing to acknowledge."""
    if incident.state != TRIGGERED:
        return False
    await cancel_pending_pages(session, incident.id, now)  # first: see LOCK ORDER
    incident.state, incident.acked_at, incident.acked_by = ACKNOWLEDGED, now, by
    incident.next_action_at = now  # the engine schedules ack_expires
    add_event(session, incident.id, now, "acknowledged", by, via=via)
    return True


async def resolve(
    session: AsyncSession,
    incident: Incident,
    now: datetime,
    by: str | None,
    via: Via,
    reason: str = "",
) -> bool:
    if incident.state == RESOLVED:
        return False
    await cancel_pending_pages(session, incident.id, now)  # first: see LOCK ORDER
    incident.state, incident.resolved_at, incident.resolved_by = RESOLVED, now, by
    incident.open_key = None
    incident.next_action_at = now  # the engine sends notify_on_resolve notices
    add_event(session, incident.id, now, "resolved", by, via=via, reason=reason)
    return True


async def escalate(
    session: AsyncSession, incident: Incident, now: datetime, by: str | None, via: Via
) -> bool:
    """Move to the next level now (also re-triggers an acknowledged incident)."""
    if incident.state == RESOLVED:
        return False
    if incident.state == ACKNOWLEDGED:
        incident.state, incident.acked_at, incident.acked_by = TRIGGERED, None, None
    incident.escalate_at = now
    incident.next_action_at = now
    add_event(session, incident.id, now, "escalate_requested", by, via=via)
    return True


async def cancel_pending_pages(session: AsyncSession, incident_id: int, now: datetime) -> None:
    """Pages not sent yet are cancelled: waiting, retrying, or claimed by a sender
    whose request has not started (it checks the incident again as it starts).
    `deadline` asks the engine to count them (pager_notifications_total)."""
    await session.execute(
        update(Notification)
        .where(
            Notification.incident_id == incident_id,
            Notification.kind == "page",
            or_(
                Notification.state.in_(("pending", "failed_temp")),
                and_(Notification.state == "sending", Notification.started_at.is_(None)),
            ),
        )
        .values(state="cancelled", deadline=now, lease=None)
    )


# --- reads ------------------------------------------------------------------


@dataclass(frozen=True)
class IncidentQuery:
    """Which incidents a list shows, newest first; `before` is the cursor (an id)."""

    state: str | None = None  # open | triggered | acknowledged | resolved
    priorities: tuple[str, ...] = ()
    since: datetime | None = None  # created at or after
    until: datetime | None = None  # created before
    before: int | None = None  # ids below this one: the next page
    drill: bool | None = None
    text: str | None = None  # in the title or summary, any case


async def list_incidents(
    session: AsyncSession, where: IncidentQuery = IncidentQuery(), limit: int = 100
) -> Sequence[Incident]:
    query = select(Incident).order_by(Incident.id.desc()).limit(limit)
    if where.state == "open":
        query = query.where(Incident.state != RESOLVED)
    elif where.state:
        query = query.where(Incident.state == where.state)
    if where.priorities:
        query = query.where(Incident.priority.in_(where.priorities))
    if where.since is not None:
        query = query.where(Incident.created_at >= where.since)
    if where.until is not None:
        query = query.where(Incident.created_at < where.until)
    if where.before is not None:
        query = query.where(Incident.id < where.before)
    if where.drill is not None:
        query = query.where(Incident.drill.is_(where.drill))
    if where.text:
        query = query.where(
            Incident.title.icontains(where.text, autoescape=True)
            | Incident.summary.icontains(where.text, autoescape=True)
        )
    return (await session.execute(query)).scalars().all()


async def load_incident(session: AsyncSession, incident_id: int) -> Incident:
    found = await session.execute(
        select(Incident).where(Incident.id == incident_id).options(selectinload(Incident.alerts))
    )
    incident = found.scalar_one_or_none()
    if incident is None:
        raise IncidentNotFound(f"no incident {incident_id}")
    return incident


@dataclass(frozen=True)
class IncidentRecord:
    incident: Incident
    events: Sequence[Event]
    notifications: Sequence[Notification]


async def incident_record(session: AsyncSession, incident_id: int) -> IncidentRecord:
    """The incident with its alerts, timeline and notifications (IncidentNotFound if none)."""
    incident = await load_incident(session, incident_id)
    return IncidentRecord(
        incident, await timeline(session, incident_id), await notifications_of(session, incident_id)
    )


async def timeline(session: AsyncSession, incident_id: int) -> Sequence[Event]:
    found = await session.execute(
        select(Event).where(Event.incident_id == incident_id).order_by(Event.at, Event.id)
    )
    return found.scalars().all()


async def count_events(session: AsyncSession, incident_id: int, kind: str) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(Event)
        .where(Event.incident_id == incident_id, Event.kind == kind)
    )
    return int(count or 0)


async def notifications_of(session: AsyncSession, incident_id: int) -> Sequence[Notification]:
    found = await session.execute(
        select(Notification)
        .where(Notification.incident_id == incident_id)
        .order_by(Notification.id)
    )
    return found.scalars().all()


async def open_counts(session: AsyncSession) -> list[tuple[str, str, int]]:
    rows = await session.execute(
        select(Incident.priority, Incident.state, func.count())
        .where(Incident.state != RESOLVED, Incident.drill.is_(False))
        .group_by(Incident.priority, Incident.state)
    )
    return [(p, s, int(n)) for p, s, n in rows.all()]


async def reached_people(
    session: AsyncSession, incident_ids: Sequence[int]
) -> dict[int, tuple[str, ...]]:
    """The people a page of each incident reached (or may have): they get resolve notices.
    Pages only folded into a bundle do not count: nobody hears about those one by one."""
    rows = await session.execute(
        select(Notification.incident_id, Notification.person_id)
        .where(
            Notification.incident_id.in_(incident_ids),
            Notification.kind == "page",
            or_(
                Notification.state.in_(("sent", "delivered", "unknown")),
                and_(Notification.state == "sending", Notification.started_at.is_not(None)),
            ),
        )
        .order_by(Notification.id)
    )
    found: dict[int, dict[str, None]] = defaultdict(dict)
    for incident_id, person in rows.all():
        if incident_id is not None:
            found[incident_id].setdefault(person)
    return {i: tuple(people) for i, people in found.items()}


async def firing_counts(session: AsyncSession, incident_ids: Sequence[int]) -> dict[int, int]:
    """Firing alerts per incident (incidents with none are left out)."""
    rows = await session.execute(
        select(Alert.incident_id, func.count())
        .where(Alert.incident_id.in_(incident_ids), Alert.status == "firing")
        .group_by(Alert.incident_id)
    )
    return {int(i): int(n) for i, n in rows.all()}


async def load_incidents(session: AsyncSession, incident_ids: Sequence[int]) -> Sequence[Incident]:
    """These incidents in one query (later session.get() calls find them in the session)."""
    return (
        (await session.execute(select(Incident).where(Incident.id.in_(incident_ids))))
        .scalars()
        .all()
    )


async def triggered_among(session: AsyncSession, incident_ids: Sequence[int]) -> Sequence[Incident]:
    """Those of these incidents still unacknowledged, by id."""
    rows = await session.execute(
        select(Incident)
        .where(Incident.id.in_(incident_ids), Incident.state == TRIGGERED)
        .order_by(Incident.id)
    )
    return rows.scalars().all()


async def unreviewed_p1(session: AsyncSession, resolved_before: datetime) -> Sequence[Incident]:
    """Real P1 incidents resolved before then, with no review held and no reminder sent."""
    rows = await session.execute(
        select(Incident).where(
            Incident.state == RESOLVED,
            Incident.original_priority == "P1",
            Incident.priority == "P1",
            Incident.drill.is_(False),
            Incident.reviewed_at.is_(None),
            Incident.review_reminded_at.is_(None),
            Incident.resolved_at <= resolved_before,
        )
    )
    return rows.scalars().all()


async def pages_of(
    session: AsyncSession, incident_ids: Sequence[int]
) -> dict[int, list[Notification]]:
    """The page notifications of each incident, oldest first (one query for all)."""
    rows = await session.execute(
        select(Notification)
        .where(Notification.incident_id.in_(incident_ids), Notification.kind == "page")
        .order_by(Notification.id)
    )
    found: dict[int, list[Notification]] = defaultdict(list)
    for row in rows.scalars():
        if row.incident_id is not None:
            found[row.incident_id].append(row)
    return dict(found)
