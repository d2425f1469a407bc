"""Repository functions for incidents, their alerts and their timeline.

Callers own the transaction (`Database.write()`); nothing here commits.
State changes that the engine must act on set `next_action_at = now`, so the
decision itself stays in the engine and its pure core.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from pager.core.alert import AlertIn
from pager.core.via import Via
from pager.core.vocabulary import EventKind, IncidentState
from pager.store.alert_batch import IngestContext as IngestContext  # re-exported for callers
from pager.store.alert_batch import Outcome, Part, Working
from pager.store.alert_fold import suppressed_event
from pager.store.alert_writes import record_batch
from pager.store.chunks import rows_for_ids
from pager.store.models import Alert, Event, Incident, MaintenanceWindow, Notification
from pager.store.notifications import cancel_pending_pages, notifications_of
from pager.store.prebuilt import nothing, run


class IncidentNotFound(LookupError):
    pass


IngestResult = Outcome[int]  # one webhook's outcome, its incidents by id


def incident_id(incident: Working) -> int:
    """A recorded incident's id."""
    assert incident.id is not None, "recorded incidents have ids"
    return incident.id


def add_event(
    session: AsyncSession,
    incident_id: int,
    at: datetime,
    kind: EventKind,
    actor: str | None = None,
    **detail: Any,
) -> None:
    session.add(Event(incident_id=incident_id, at=at, kind=kind, actor=actor, detail=detail))


_INSERT_EVENT = insert(cast(Table, Event.__table__))  # built once: every accepted send runs it


async def insert_event(
    session: AsyncSession,
    incident_id: int,
    at: datetime,
    kind: EventKind,
    actor: str | None = None,
    **detail: Any,
) -> None:
    """`add_event` as one Core INSERT, sent now (not at the next flush): the same row,
    each value bound with its column's type (the id is the database's, as for the
    ORM's; Event has no default filled in Python). What the session held pending
    is flushed first (store/prebuilt.py), so timeline events keep the order in
    which they were made."""
    values = {"incident_id": incident_id, "at": at, "kind": kind, "actor": actor, "detail": detail}
    await run(session, _INSERT_EVENT, values, nothing)


async def record_alerts(
    session: AsyncSession, alerts: Sequence[AlertIn], ctx: IngestContext, now: datetime
) -> IngestResult:
    """Fold one webhook's alerts into incidents: open, update, resolve (a batch of one;
    see `pager.store.alert_writes`)."""
    [part] = await record_batch(session, [Part(alerts, ctx)], now)
    return part.map(incident_id)


def note_suppressed(
    session: AsyncSession, incident_id: int, window: MaintenanceWindow, now: datetime
) -> None:
    """The timeline event of an incident held back (recorded, not paged) by a window."""
    session.add(Event(incident_id=incident_id, **suppressed_event(window, now)))


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
    if incident.state != IncidentState.TRIGGERED:
        return False
    await cancel_pending_pages(session, incident.id, now)  # first: see LOCK ORDER
    incident.state, incident.acked_at, incident.acked_by = IncidentState.ACKNOWLEDGED, now, by
    incident.next_action_at = now  # the engine schedules ack_expires
    add_event(session, incident.id, now, EventKind.ACKNOWLEDGED, by, via=via)
    return True


async def resolve(
    session: AsyncSession,
    incident: Incident,
    now: datetime,
    by: str | None,
    via: Via,
    reason: str = "",
) -> bool:
    if incident.state == IncidentState.RESOLVED:
        return False
    await cancel_pending_pages(session, incident.id, now)  # first: see LOCK ORDER
    incident.state, incident.resolved_at, incident.resolved_by = IncidentState.RESOLVED, now, by
    incident.open_key = None
    incident.next_action_at = now  # the engine sends notify_on_resolve notices
    add_event(session, incident.id, now, EventKind.RESOLVED, by, via=via, reason=reason)
    return True


async def escalate(
    session: AsyncSession, incident: Incident, now: datetime, by: str | None, via: Via
) -> bool:
    """Move to the next level now (also re-triggers an acknowledged incident)."""
    if incident.state == IncidentState.RESOLVED:
        return False
    if incident.state == IncidentState.ACKNOWLEDGED:
        incident.state, incident.acked_at, incident.acked_by = IncidentState.TRIGGERED, None, None
    incident.escalate_at = now
    incident.next_action_at = now
    add_event(session, incident.id, now, EventKind.ESCALATE_REQUESTED, by, via=via)
    return True


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
        query = query.where(Incident.state != IncidentState.RESOLVED)
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


async def count_events(session: AsyncSession, incident_id: int, kind: EventKind) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(Event)
        .where(Event.incident_id == incident_id, Event.kind == kind)
    )
    return int(count or 0)


async def count_events_of(
    session: AsyncSession, incident_ids: Sequence[int], kind: EventKind
) -> dict[int, int]:
    """`count_events` for many incidents in one query (those with none are left out)."""
    if not incident_ids:
        return {}
    rows = await session.execute(
        select(Event.incident_id, func.count())
        .where(Event.incident_id.in_(incident_ids), Event.kind == kind)
        .group_by(Event.incident_id)
    )
    return {int(incident_id): int(n) for incident_id, n in rows.all()}


async def open_counts(session: AsyncSession) -> list[tuple[str, str, int]]:
    rows = await session.execute(
        select(Incident.priority, Incident.state, func.count())
        .where(Incident.state != IncidentState.RESOLVED, Incident.drill.is_(False))
        .group_by(Incident.priority, Incident.state)
    )
    return [(p, s, int(n)) for p, s, n in rows.all()]


_FIRING_COUNTS = (
    select(Alert.incident_id, func.count())
    .where(Alert.incident_id.in_(bindparam("ids", expanding=True)), Alert.status == "firing")
    .group_by(Alert.incident_id)
)  # built once, as the next: the engine asks them for every batch
_LOAD_INCIDENTS = select(Incident).where(Incident.id.in_(bindparam("ids", expanding=True)))


async def firing_counts(session: AsyncSession, incident_ids: Sequence[int]) -> dict[int, int]:
    """Firing alerts per incident (incidents with none are left out)."""
    rows = await session.execute(_FIRING_COUNTS, {"ids": list(incident_ids)})
    return {int(i): int(n) for i, n in rows.all()}


async def load_incidents(session: AsyncSession, incident_ids: Sequence[int]) -> Sequence[Incident]:
    """These incidents in one query (later session.get() calls find them in the session)."""
    found = await session.execute(_LOAD_INCIDENTS, {"ids": list(incident_ids)})
    return found.scalars().all()


async def triggered_among(session: AsyncSession, incident_ids: Sequence[int]) -> list[Row[Any]]:
    """Those of these incidents still unacknowledged, by id: what a bundle lists
    (id, priority, title, drill). A storm's bundle may name more incidents than
    one statement binds; only the columns its text needs, not an ORM object each."""
    return await rows_for_ids(session, _TRIGGERED_AMONG, incident_ids)


_TRIGGERED_AMONG = (
    select(Incident.id, Incident.priority, Incident.title, Incident.drill)
    .where(
        Incident.id.in_(bindparam("ids", expanding=True)),
        Incident.state == IncidentState.TRIGGERED,
    )
    .order_by(Incident.id)
)


async def unreviewed_p1(session: AsyncSession, resolved_before: datetime) -> Sequence[Incident]:
    """Real P1 incidents resolved before then, with no review held and no reminder sent."""
    rows = await session.execute(
        select(Incident).where(
            Incident.state == IncidentState.RESOLVED,
            Incident.original_priority == "P1",
            Incident.priority == "P1",
            Incident.drill.is_(False),
            Incident.reviewed_at.is_(None),
            Incident.review_reminded_at.is_(None),
            Incident.resolved_at <= resolved_before,
        )
    )
    return rows.scalars().all()
