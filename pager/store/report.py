"""The rows the on-call health report is computed from (pager.core.report):
one read of the period's real incidents and the pages sent in it.

Drills are left out here, once, so no figure can count one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pager.core.report import IncidentRow, PageRow, Rows
from pager.core.vocabulary import PAGE_KINDS
from pager.store.models import Incident, Notification


async def report_rows(session: AsyncSession, since: datetime, until: datetime) -> Rows:
    found = await session.execute(
        select(
            Incident.id,
            Incident.priority,
            Incident.title,
            Incident.created_at,
            Incident.acked_at,
            Incident.acked_by,
            Incident.resolved_at,
            Incident.suppressed,
            Incident.policy_version_id,
            Incident.rule_index,
        )
        .where(Incident.drill.is_(False), Incident.created_at >= since, Incident.created_at < until)
        .order_by(Incident.id)
    )
    incidents = tuple(
        IncidentRow(*row[:8], rule=(row.policy_version_id, row.rule_index)) for row in found
    )
    sent = await session.execute(
        select(Notification.person_id, Notification.sent_at, Notification.incident_id)
        .outerjoin(Incident, Incident.id == Notification.incident_id)
        .where(
            Notification.kind.in_(PAGE_KINDS),
            Notification.sent_at >= since,
            Notification.sent_at < until,
            (Incident.id.is_(None)) | Incident.drill.is_(False),
        )
        .order_by(Notification.id)
    )
    pages = tuple(PageRow(person, at, incident) for person, at, incident in sent if at is not None)
    return Rows(incidents, pages)
