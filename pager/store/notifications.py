"""Queries of the notification rows, all in one place: which notification a
reply or callback is about, whom an incident's pages reached, what a person
was sent lately (the throttle), the rows of one escalation step (fallback).

Two kinds of query live elsewhere, for their own reasons: the engine's claims
and locks (store/claims.py: FOR UPDATE SKIP LOCKED and the LOCK ORDER) and
the one read the on-call report is computed from (store/report.py). Callers
own the transaction; nothing here commits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Table, and_, bindparam, func, or_, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession

from pager.core.vocabulary import NotificationKind, NotificationState
from pager.store.chunks import rows_for_ids
from pager.store.models import Notification
from pager.store.prebuilt import run

DELIVERED_STATES = (
    NotificationState.SENDING,
    NotificationState.SENT,
    NotificationState.DELIVERED,
    NotificationState.UNKNOWN,
)


async def newest_page_to(session: AsyncSession, person_id: str) -> Notification | None:
    """The newest page or bundle that went out to a person (for a bare `A`)."""
    found = await session.execute(
        select(Notification)
        .where(
            Notification.person_id == person_id,
            Notification.kind.in_((NotificationKind.PAGE, NotificationKind.BUNDLE)),
            Notification.state.in_(DELIVERED_STATES),
        )
        # A send still in flight or timed out ("unknown") has no sent_at: count it
        # as of when it was due. A bare NULL would sort first on PostgreSQL and
        # last on SQLite, so an old unknown page took every bare `A` on PostgreSQL.
        .order_by(
            func.coalesce(Notification.sent_at, Notification.due_at).desc(),
            Notification.id.desc(),
        )
        .limit(1)
    )
    return found.scalar_one_or_none()


async def notification(
    session: AsyncSession, notification_id: int, lock: bool = False
) -> Notification | None:
    query = select(Notification).where(Notification.id == notification_id)
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def was_paged(session: AsyncSession, incident_id: int, person_id: str) -> bool:
    """Whether the incident's escalation chose to page the person (a page of it, in
    any state, or a bundle that named it). Stakeholders' FYIs do not count."""
    direct = await session.scalar(
        select(Notification.id)
        .where(
            Notification.incident_id == incident_id,
            Notification.person_id == person_id,
            Notification.kind == NotificationKind.PAGE,
        )
        .limit(1)
    )
    if direct is not None:
        return True
    bundles = await session.execute(
        select(Notification.bundle_of).where(
            Notification.person_id == person_id,
            Notification.kind == NotificationKind.BUNDLE,
            Notification.bundle_of.is_not(None),
        )
    )
    return any(incident_id in {int(i) for i in ids or []} for ids in bundles.scalars())


async def cancel_pending_pages(session: AsyncSession, incident_id: int, now: datetime) -> None:
    """Pages not sent yet are cancelled: waiting, retrying, or claimed without a
    start (an older version's claim: it checked the incident again as it started).
    `deadline` asks the engine to count them (pager_notifications_total)."""
    await session.execute(
        update(Notification)
        .where(
            Notification.incident_id == incident_id,
            Notification.kind == NotificationKind.PAGE,
            or_(
                Notification.state.in_((NotificationState.PENDING, NotificationState.FAILED_TEMP)),
                and_(
                    Notification.state == NotificationState.SENDING,
                    Notification.started_at.is_(None),
                ),
            ),
        )
        .values(state=NotificationState.CANCELLED, deadline=now, lease=None)
    )


async def notifications_of(session: AsyncSession, incident_id: int) -> Sequence[Notification]:
    found = await session.execute(
        select(Notification)
        .where(Notification.incident_id == incident_id)
        .order_by(Notification.id)
    )
    return found.scalars().all()


async def reached_people(
    session: AsyncSession, incident_ids: Sequence[int]
) -> dict[int, tuple[str, ...]]:
    """The people a page of each incident reached (or may have): they get resolve notices.
    Pages only folded into a bundle do not count: nobody hears about those one by one."""
    rows = await session.execute(
        select(Notification.incident_id, Notification.person_id)
        .where(
            Notification.incident_id.in_(incident_ids),
            Notification.kind == NotificationKind.PAGE,
            or_(
                Notification.state.in_(
                    (NotificationState.SENT, NotificationState.DELIVERED, NotificationState.UNKNOWN)
                ),
                and_(
                    Notification.state == NotificationState.SENDING,
                    Notification.started_at.is_not(None),
                ),
            ),
        )
        .order_by(Notification.id)
    )
    found: dict[int, dict[str, None]] = defaultdict(dict)
    for incident_id, person in rows.all():
        if incident_id is not None:
            found[incident_id].setdefault(person)
    return {i: tuple(people) for i, people in found.items()}


async def pages_of(
    session: AsyncSession, incident_ids: Sequence[int]
) -> dict[int, list[Notification]]:
    """The page notifications of each incident, oldest first (one query for all)."""
    rows = await session.execute(
        select(Notification)
        .where(
            Notification.incident_id.in_(incident_ids), Notification.kind == NotificationKind.PAGE
        )
        .order_by(Notification.id)
    )
    found: dict[int, list[Notification]] = defaultdict(list)
    for row in rows.scalars():
        if row.incident_id is not None:
            found[row.incident_id].append(row)
    return dict(found)


async def waiting_bundle(
    session: AsyncSession, person_id: str, channel: str, kind: str = NotificationKind.BUNDLE
) -> Notification | None:
    """The person's bundle (or, with kind "info", digest) on `channel` not sent yet."""
    params = {"person": person_id, "channel": channel, "kind": kind}
    return (await session.execute(_WAITING_BUNDLE, params)).scalars().first()


_WAITING_BUNDLE = select(Notification).where(
    Notification.person_id == bindparam("person"),
    Notification.channel == bindparam("channel"),
    Notification.kind == bindparam("kind"),
    Notification.state == NotificationState.PENDING,
    Notification.bundle_of.is_not(None),
)  # built once: the throttle asks it for every page it holds back


# Core, on the table (store/prebuilt.py): both are run for every page.
_NOTIFICATIONS = cast(Table, Notification.__table__)
_C = _NOTIFICATIONS.c
_SENT_COLUMNS = (_C.sent_at, _C.started_at, _C.state)
_OF_PERSON = (
    _C.person_id == bindparam("person"),
    _C.channel == bindparam("channel"),
    _C.kind.in_(bindparam("kinds", expanding=True)),
)
# Two parts, each a range of one index of the person and channel (a part of an
# OR is no index range in SQLite: as one query it read every row the person was
# ever sent), and no row in both. Strictly after: a send exactly one window ago
# has left the window. With `>=` the window "frees" at `now` itself, the bundle
# is put back to `now` forever and the engine spins without sending it.
_SENT_TIMES = union_all(
    select(*_SENT_COLUMNS).where(*_OF_PERSON, _C.sent_at > bindparam("since")),
    select(*_SENT_COLUMNS).where(
        *_OF_PERSON,
        _C.state.in_((NotificationState.SENDING, NotificationState.UNKNOWN)),
        or_(_C.sent_at.is_(None), _C.sent_at <= bindparam("since")),
        or_(_C.state == NotificationState.SENDING, _C.started_at > bindparam("since")),
    ),
)  # built once: the throttle asks it for every claim
_PAGE_SENT_BEFORE = (
    select(_C.id)
    .where(
        _C.incident_id == bindparam("incident_id"),
        _C.kind == NotificationKind.PAGE,
        _C.sent_at.is_not(None),
        _C.id != bindparam("but"),
    )
    .limit(1)
)  # built once: every accepted page of an alert asks it


async def sent_times(
    session: AsyncSession,
    person: str,
    channel: str,
    since: datetime,
    now: datetime,
    kinds: tuple[str, ...],
) -> list[datetime]:
    """When the person's messages of `kinds` went out within the window, oldest
    first. One being sent right now (claimed, maybe by another batch or replica)
    counts as now; one of unknown fate as of when its request started."""
    params = {"person": person, "channel": channel, "kinds": list(kinds), "since": since}
    # The ORM's autoflush kept: rows this claim started count (store/prebuilt.py).
    rows = await run(session, _SENT_TIMES, params, _all)
    return sorted(_counted_at(sent, started, state, now) for sent, started, state in rows)


def _all(result: CursorResult[Any]) -> Sequence[Any]:
    return result.all()


def _counted_at(
    sent_at: datetime | None, started_at: datetime | None, state: str, now: datetime
) -> datetime:
    if state == NotificationState.SENDING:
        return now
    return sent_at or started_at or now


async def bodies_of(session: AsyncSession, notification_ids: Sequence[Any]) -> list[str]:
    """The texts of these messages, by id (a digest's; asked in pieces: a storm's
    digest may hold more than one statement binds)."""
    return [row.body for row in await rows_for_ids(session, _BODIES, notification_ids)]


_BODIES = (
    select(Notification.body)
    .where(Notification.id.in_(bindparam("ids", expanding=True)))
    .order_by(Notification.id)
)


async def step_pages(
    session: AsyncSession, incident_id: int | None, step: int, person_id: str | None = None
) -> list[Notification]:
    """The page rows of one escalation step (of one person, if given)."""
    query = select(Notification).where(
        Notification.incident_id == incident_id,
        Notification.step == step,
        Notification.kind == NotificationKind.PAGE,
    )
    if person_id is not None:
        query = query.where(Notification.person_id == person_id)
    return list((await session.execute(query)).scalars())


async def recorded_ids(session: AsyncSession, provider_ids: Sequence[str], but: int) -> set[str]:
    """Those of these provider ids that another notification row already holds."""
    if not provider_ids:
        return set()
    rows = await session.execute(
        select(Notification.provider_id).where(
            Notification.provider_id.in_(provider_ids), Notification.id != but
        )
    )
    return {str(p) for p in rows.scalars() if p is not None}


async def page_sent_before(session: AsyncSession, incident_id: int, but: int) -> bool:
    """Whether another page of the incident was already handed to the provider."""
    params = {"incident_id": incident_id, "but": but}
    return await run(session, _PAGE_SENT_BEFORE, params, _found)


def _found(result: CursorResult[Any]) -> bool:
    return result.first() is not None
