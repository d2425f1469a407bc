"""Policy versions: each distinct loaded policy is stored once, by content hash."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pager.store.models import PolicyLoad, PolicyVersion


def digest(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


async def save_version(session: AsyncSession, body: dict[str, Any], now: datetime) -> int:
    sha = digest(body)
    found = await session.scalar(select(PolicyVersion.id).where(PolicyVersion.sha256 == sha))
    if found is not None:
        return int(found)
    row = PolicyVersion(sha256=sha, body=body, created_at=now)
    session.add(row)
    await session.flush()
    return row.id


async def record_load(session: AsyncSession, version_id: int, now: datetime) -> None:
    session.add(PolicyLoad(version_id=version_id, loaded_at=now))


async def version_at(session: AsyncSession, at: datetime) -> int | None:
    """The policy version that was running at `at` (the last one loaded before it)."""
    found = await session.scalar(
        select(PolicyLoad.version_id)
        .where(PolicyLoad.loaded_at <= at)
        .order_by(PolicyLoad.loaded_at.desc(), PolicyLoad.id.desc())
        .limit(1)
    )
    return int(found) if found is not None else None


async def load_version(session: AsyncSession, version_id: int) -> dict[str, Any]:
    body = await session.scalar(select(PolicyVersion.body).where(PolicyVersion.id == version_id))
    if body is None:
        raise LookupError(f"no policy version {version_id}")
    return dict(body)
