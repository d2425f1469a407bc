"""PostgreSQL connections are pinged only after an idle spell (store/db.py).

The database goes away for real: a TCP proxy drops every connection and is
restored at once, as a restart would leave the pool. A connection idle longer
than PING_IDLE is pinged as it is checked out, so the first query after a
quiet outage already gets a new connection; one used a moment ago is not
pinged, so its first query fails, and that failure renews the whole pool.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from pager.store import db as db_module
from pager.store.db import Database, unavailable
from tests.fakes.tcp_proxy import TcpProxy

pytestmark = pytest.mark.postgres


@pytest.fixture
async def proxied(pg_url: str) -> AsyncIterator[tuple[Database, TcpProxy]]:
    """A Database reaching PostgreSQL through the proxy."""
    url = make_url(pg_url)
    proxy = await TcpProxy(url.host or "127.0.0.1", url.port or 5432).start()
    through = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    db = Database(through, timeout=2)
    try:
        yield db, proxy
    finally:
        await db.close()
        await proxy.close()


async def one(db: Database) -> int:
    async with db.read() as session:
        return int(await session.scalar(text("SELECT 1")) or 0)


async def restarted(db: Database, proxy: TcpProxy) -> None:
    assert await one(db) == 1  # a connection in the pool
    proxy.cut()
    proxy.restore()


async def test_a_connection_idle_past_the_limit_is_pinged_and_replaced(
    proxied: tuple[Database, TcpProxy], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, proxy = proxied
    monkeypatch.setattr(db_module, "PING_IDLE", 0.0)  # every checkout is after an idle spell
    await restarted(db, proxy)
    assert await one(db) == 1  # the ping found the dead connection; a new one answered


async def test_a_connection_just_used_is_not_pinged_and_one_failure_renews_the_pool(
    proxied: tuple[Database, TcpProxy], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, proxy = proxied
    monkeypatch.setattr(db_module, "PING_IDLE", 3600.0)
    await restarted(db, proxy)
    with pytest.raises(DBAPIError) as failed:
        await one(db)
    assert unavailable(failed.value)  # a 503 for a webhook, a step error for the engine
    # (with a pre-ping at every checkout, as before, this query would have succeeded)
    assert await one(db) == 1  # the failure invalidated the pool: a new connection
