"""Written reviews: each save is a new version, numbered per incident, with its author.

Versions are never changed or deleted, so the review's history is the record
of who wrote what. Two people saving at once: the unique (incident, version)
index lets one win; the other's transaction fails and is retried with the
next number (Database.transact). Callers own the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from pager.core.vocabulary import IncidentState
from pager.store.models import Incident, ReviewVersion


async def save_version(
    session: AsyncSession,
    incident_id: int,
    author: str | None,
    sections: dict[str, str],
    now: datetime,
) -> ReviewVersion:
    newest = await session.scalar(
        select(func.max(ReviewVersion.version)).where(ReviewVersion.incident_id == incident_id)
    )
    row = ReviewVersion(
        incident_id=incident_id,
        version=int(newest or 0) + 1,
        author=author,
        created_at=now,
        sections=sections,
    )
    session.add(row)
    await session.flush()
    return row


async def versions(session: AsyncSession, incident_id: int) -> Sequence[ReviewVersion]:
    """Every version of the incident's review, newest first."""
    query = (
        select(ReviewVersion)
        .where(ReviewVersion.incident_id == incident_id)
        .order_by(ReviewVersion.version.desc())
    )
    return (await session.execute(query)).scalars().all()


async def unreviewed(
    session: AsyncSession, resolved_since: datetime, limit: int = 100
) -> Sequence[Incident]:
    """Real incidents resolved since then with no review held, newest first."""
    query = (
        select(Incident)
        .where(
            Incident.state == IncidentState.RESOLVED,
            Incident.drill.is_(False),
            Incident.suppressed.is_(False),
            Incident.reviewed_at.is_(None),
            Incident.resolved_at >= resolved_since,
        )
        .order_by(Incident.resolved_at.desc())
        .limit(limit)
    )
    return (await session.execute(query)).scalars().all()


async def overdue_reviews(session: AsyncSession, resolved_before: datetime) -> Sequence[Incident]:
    """P1 incidents resolved before then (7 days ago) whose review was never held."""
    query = (
        select(Incident)
        .where(
            Incident.state == IncidentState.RESOLVED,
            Incident.priority == "P1",
            Incident.drill.is_(False),
            Incident.reviewed_at.is_(None),
            Incident.resolved_at < resolved_before,
        )
        .order_by(Incident.resolved_at)
    )
    return (await session.execute(query)).scalars().all()


async def held_recently(
    session: AsyncSession, since: datetime, limit: int = 50
) -> Sequence[Incident]:
    query = (
        select(Incident)
        .where(Incident.reviewed_at.is_not(None), Incident.reviewed_at >= since)
        .order_by(Incident.reviewed_at.desc())
        .limit(limit)
    )
    return (await session.execute(query)).scalars().all()
