"""Inbound Twilio requests that act, each taken once (the `inbound_messages` table).

Twilio signs a request but puts no time in the signature, so a signed "6E"
posted five times would escalate five times. The first request of a key takes
it (a unique key, so two replicas cannot both take it); any later one finds it
taken and is answered with the first one's reply. At most once: a crash after
the key was taken and before the action loses that one reply (the page keeps
escalating; a new reply has a new MessageSid), never doubles it.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from pager.store.db import Database
from pager.store.models import InboundMessage

# Bigger than a SQLite page (4 KiB), so the probe needs a new page, as growing does.
_PROBE_BYTES = 8192


async def take(db: Database, key: str, now: datetime) -> bool:
    """True when this is the first request with `key`; False for a replay."""
    try:
        async with db.write() as session:
            session.add(InboundMessage(key=key, received_at=now))
    except IntegrityError:
        return False
    return True


async def answered(db: Database, key: str, reply: str) -> None:
    async with db.write() as session:
        await session.execute(
            update(InboundMessage).where(InboundMessage.key == key).values(reply=reply)
        )


async def first_reply(db: Database, key: str) -> str | None:
    """What the first request of `key` was answered (None while it is still being handled)."""
    async with db.read() as session:
        found = await session.execute(select(InboundMessage.reply).where(InboundMessage.key == key))
    return found.scalar_one_or_none()


class _RolledBack(Exception):
    pass


async def probe_write(db: Database, now: datetime) -> None:
    """Write a row as an SMS reply would, then roll it back. Raises what the
    database raised when it does not take the write (read-only, full, away)."""
    try:
        async with db.write() as session:
            probe = InboundMessage(
                key=f"probe:{uuid.uuid4().hex}", received_at=now, reply="x" * _PROBE_BYTES
            )
            session.add(probe)
            await session.flush()
            raise _RolledBack
    except _RolledBack:
        return
