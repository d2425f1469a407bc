"""Calendar-feed tokens: one secret per person, kept as its SHA-256.

The plain token is returned once, when it is made, and lives only in the
feed URL the person subscribes with. Making a new one replaces the old row,
so the old URL stops working at once (404). Callers own the transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from pager.store.models import CalendarToken

TOKEN_BYTES = 32  # 256 bits: guessing one is hopeless, whatever the rate


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def new_token(session: AsyncSession, person: str, now: datetime) -> str:
    """A fresh token for `person` (their old one, if any, stops working)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    await session.execute(delete(CalendarToken).where(CalendarToken.person_id == person))
    session.add(CalendarToken(person_id=person, token_hash=digest(token), created_at=now))
    return token


async def person_of(session: AsyncSession, token: str) -> str | None:
    """Whose token this is, or None (unknown, or replaced by a newer one)."""
    found = await session.scalar(
        select(CalendarToken.person_id).where(CalendarToken.token_hash == digest(token))
    )
    return found


async def made_at(session: AsyncSession, person: str) -> datetime | None:
    found = await session.scalar(
        select(CalendarToken.created_at).where(CalendarToken.person_id == person)
    )
    return found


async def is_current(session: AsyncSession, person: str, token: str) -> bool:
    return await person_of(session, token) == person
