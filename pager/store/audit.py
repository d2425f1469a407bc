"""The audit log: who changed what outside an incident's timeline.

Overrides made and removed (from the API or the console) and calendar links
made are written here in the same transaction as the change itself, so a
change is never without its author. Callers own the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pager.store.models import AuditEntry


def record(
    session: AsyncSession, at: datetime, actor: str | None, action: str, subject: str, **detail: Any
) -> None:
    session.add(AuditEntry(at=at, actor=actor, action=action, subject=subject, detail=detail))


async def entries(session: AsyncSession, subject: str, limit: int = 20) -> Sequence[AuditEntry]:
    """The newest entries about `subject`, newest first."""
    query = (
        select(AuditEntry)
        .where(AuditEntry.subject == subject)
        .order_by(AuditEntry.id.desc())
        .limit(limit)
    )
    return (await session.execute(query)).scalars().all()
