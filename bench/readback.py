"""What a benchmark's daemons wrote, read back after the run (their outbox)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine


async def notifications(url: str, *columns: str) -> list[Any]:
    """Every notification row of the database at `url`, with these columns."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            sql = f"SELECT {', '.join(columns)} FROM notifications"  # names from the code
            return list((await conn.execute(text(sql))).all())
    finally:
        await engine.dispose()
