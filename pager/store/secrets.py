"""Secrets shared by every replica, made once by whichever asked first.

Two replicas starting together may both try to store one: the first insert
wins, the other's loses on the primary key and it reads the winner's, so all
agree on one value.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from pager.store.db import Database
from pager.store.models import SharedSecret


async def shared_secret(db: Database, name: str, make: Callable[[], str], now: datetime) -> str:
    """The stored secret `name`; a new one from `make()` if there is none yet."""
    found = await _read(db, name)
    if found is not None:
        return found
    try:
        async with db.write() as session:
            session.add(SharedSecret(name=name, value=make(), created_at=now))
    except IntegrityError:
        pass  # another replica stored one first: use theirs
    stored = await _read(db, name)
    if stored is None:
        raise RuntimeError(f"secret {name!r} was stored but cannot be read back")
    return stored


async def _read(db: Database, name: str) -> str | None:
    async with db.read() as session:
        found = await session.scalar(select(SharedSecret.value).where(SharedSecret.name == name))
    return found
