"""Every row of every table, to compare before and after a request that must
change nothing (a 4xx)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from pager.store.db import Database
from pager.store.models import Base

Snapshot = dict[str, list[tuple[Any, ...]]]


async def snapshot(db: Database) -> Snapshot:
    found: Snapshot = {}
    async with db.read() as session:
        for table in Base.metadata.sorted_tables:
            rows = await session.execute(select(table).order_by(*table.primary_key.columns))
            found[table.name] = [tuple(row) for row in rows.all()]
    return found
