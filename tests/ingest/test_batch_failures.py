"""A batch fails only the webhooks that fail (SQLite and PostgreSQL).

To make a batch on purpose, a second connection plugs the database (SQLite:
an open BEGIN IMMEDIATE; PostgreSQL: LOCK TABLE incidents): the writer takes
the first webhook and waits on the plug, the next ones queue, and when the
plug is pulled they are recorded together, as under load.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import StatementError

from pager.app import create_app
from pager.core.alert import AlertIn
from pager.engine.alert_writer import Writer
from pager.settings import Settings
from pager.store.db import Database
from pager.store.models import Alert, Event, Incident
from tests.conftest import truncate
from tests.fakes.fake_notifier import FakeNotifier
from tests.fakes.tcp_proxy import TcpProxy
from tests.harness import API_TOKEN, WEBHOOK_TOKEN, Harness, write_policy
from tests.polling import eventually
from tests.scenario.policies import BASE

AM = "/api/v1/alerts/alertmanager"


def _body(n: int, **change: Any) -> bytes:
    alert = {
        "status": "firing",
        "labels": {"alertname": "Down", "instance": f"db{n}", "severity": "critical"},
        "annotations": {"summary": f"db{n} down"},
        "startsAt": "2026-01-05T08:00:00Z",
        "fingerprint": f"fp{n}",
    }
    body = {"version": "4", "status": "firing", "groupKey": f"g{n}", "alerts": [alert]}
    return json.dumps(body | change).encode()


@contextlib.asynccontextmanager
async def plugged(url: str) -> AsyncIterator[None]:
    """Another connection holds the database until the block ends."""
    other = Database(url)
    hold = "SELECT 1" if other.is_sqlite else "LOCK TABLE incidents IN EXCLUSIVE MODE"
    try:
        async with other.write() as session:  # SQLite: BEGIN IMMEDIATE
            await session.execute(text(hold))
            yield
    finally:
        await other.close()


def batches(h: Harness) -> tuple[float, float]:
    """(transactions, webhooks in them) the writer has run."""
    get = h.pager.metrics.registry.get_sample_value
    return (
        get("pager_ingest_batch_webhooks_count") or 0.0,
        get("pager_ingest_batch_webhooks_sum") or 0.0,
    )


async def counts(db: Database) -> tuple[int, ...]:
    async with db.read() as session:
        found = [
            await session.scalar(select(func.count()).select_from(m))
            for m in (Incident, Alert, Event)
        ]
    return tuple(int(c or 0) for c in found)


async def post(h: Harness, body: bytes) -> tuple[int, Any]:
    resp = await h.client.post(AM, data=body, headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}"})
    return resp.status, await resp.json()


def one_lane(h: Harness) -> Harness:
    """One batch at a time (PostgreSQL runs several): the queue forms behind the plug."""
    h.pager.writer.lanes = 1
    return h


async def in_one_batch(
    h: Harness, url: str, first: bytes, rest: list[bytes], queued: int
) -> list[tuple[int, Any]]:
    """Post `first`, then `rest` while the writer is held; `queued` of them wait for it."""
    async with plugged(url):
        head = asyncio.create_task(post(h, first))
        await eventually(lambda: batches(h)[0] == 1, what="the writer took the first webhook")
        tail = [asyncio.create_task(post(h, body)) for body in rest]
        await eventually(lambda: h.pager.writer.queued == queued, what="the others queued")
    return [await head] + [await t for t in tail]


async def test_a_bad_webhook_in_a_batch_gets_its_own_400_and_the_others_commit(
    make_harness, db_url
):
    h = one_lane(await make_harness(BASE))
    bad = [b"{not json", _body(9, groupKey=""), _body(8).replace(b"db8 down", b"db8\\u0000down")]
    good = [_body(n) for n in range(1, 6)]
    answers = await in_one_batch(h, db_url, _body(0), [good[0], *bad, *good[1:]], queued=5)
    statuses = [status for status, _ in answers]
    assert statuses == [200, 200, 400, 400, 400, 200, 200, 200, 200]
    assert "not valid JSON" in answers[2][1]["error"]
    assert answers[3][1]["error"].startswith("groupKey")
    assert answers[4][1]["error"].startswith("alerts.0.annotations.summary")
    assert batches(h) == (2, 6)  # the first alone, then the five good ones together
    assert await counts(h.pager.db) == (6, 6, 6)  # six incidents, an alert and "opened" each


async def test_a_webhook_that_fails_in_the_database_fails_alone(db, db_url, make_harness):
    h = one_lane(await make_harness(BASE))
    writer: Writer = h.pager.writer
    alert = AlertIn("fp", "firing", {"alertname": "A"}, {"summary": "s"}, "g")
    naive = replace(
        alert, fingerprint="fp-naive", group_key="g-naive", starts_at=datetime(2026, 1, 5)
    )
    async with plugged(db_url):
        first = asyncio.create_task(writer.record([alert]))
        await eventually(lambda: batches(h)[0] == 1)
        rest = [
            asyncio.create_task(writer.record([replace(alert, group_key=f"g{n}")])) for n in (1, 2)
        ]
        bad = asyncio.create_task(writer.record([naive]))
        await eventually(lambda: writer.queued == 3)
    assert len((await first).result.opened) == 1
    assert [len((await t).result.opened) for t in rest] == [1, 1]
    with pytest.raises(StatementError, match="naive datetime"):
        await bad
    assert batches(h) == (5, 7)  # 1, then 3 that failed together, then each of the 3 alone
    assert await counts(db) == (3, 3, 3)


# --- the database goes away in the middle of a batch ------------------------------


@pytest.fixture
async def proxied(
    db_kind: str, db_url: str, tmp_path, clock, aiohttp_client
) -> AsyncIterator[tuple[Harness, str, Any]]:
    """The app, and `cut()`: PostgreSQL through a TCP proxy that it cuts; SQLite
    through a fault seam that fails the next statement as a lost disk does."""
    proxy, url = None, db_url
    if db_kind == "postgres":
        await truncate(Database(db_url))
        target = make_url(db_url)
        proxy = await TcpProxy(target.host or "127.0.0.1", target.port or 5432).start()
        url = target.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    db = Database(url)
    if db.is_sqlite:
        from pager.store.migrate import migrate

        await migrate(db)
    settings = Settings(
        database_url=url,
        policies=write_policy(tmp_path / "policies", BASE),
        webhook_token=WEBHOOK_TOKEN,
        api_token=API_TOKEN,
    )
    app = create_app(settings, clock=clock, notifier=FakeNotifier(), db=db, run_engine=False)
    h = one_lane(Harness(await aiohttp_client(app), clock, FakeNotifier()))
    lost = []

    def cut() -> None:
        if proxy is not None:
            proxy.cut()
        else:
            lost.append(True)

    @event.listens_for(db.engine.sync_engine, "before_cursor_execute")
    def _disk(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if lost and not statement.startswith(("ROLLBACK", "PRAGMA")):
            raise sqlite3.OperationalError("disk I/O error")

    def restore() -> None:
        lost.clear()
        if proxy is not None:
            proxy.restore()

    yield h, db_url, (cut, restore)
    if proxy is not None:
        await proxy.close()
    await db.close()


async def test_database_away_mid_batch_503s_every_webhook_of_it_and_writes_nothing(proxied):
    h, url, (cut, restore) = proxied
    upserts = []

    @event.listens_for(h.pager.db.engine.sync_engine, "before_cursor_execute")
    def _mid_batch(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("INSERT INTO alerts"):
            upserts.append(statement)
            if len(upserts) == 2:  # the second batch, after its reads and incident inserts
                cut()

    rest = [_body(n) for n in range(1, 5)]
    answers = await in_one_batch(h, url, _body(0), rest, queued=4)
    assert [status for status, _ in answers] == [200, 503, 503, 503, 503]
    assert {a["error"] for _, a in answers[1:]} == {"database unavailable, try again later"}
    assert batches(h) == (2, 5)
    restore()
    direct = Database(url)
    try:
        assert await counts(direct) == (1, 1, 1)  # only the first webhook's incident
        for body in rest:  # the sender retries: now each is recorded once
            assert (await post(h, body))[0] == 200
        assert await counts(direct) == (5, 5, 5)
    finally:
        await direct.close()


# --- shutdown ----------------------------------------------------------------------


async def test_shutdown_answers_every_webhook_taken_then_refuses_with_503(make_harness, db_url):
    h = one_lane(await make_harness(BASE))
    writer: Writer = h.pager.writer
    alert = AlertIn("fp", "firing", {"alertname": "A"}, {"summary": "s"}, "g")
    async with plugged(db_url):
        taken = [asyncio.create_task(writer.record([alert]))]
        await eventually(lambda: batches(h)[0] == 1)  # the first is being recorded
        taken.append(asyncio.create_task(writer.record([replace(alert, group_key="g2")])))
        await eventually(lambda: writer.queued == 1)  # the second waits for the next batch
        drained = asyncio.create_task(writer.drain())
        await asyncio.sleep(0.05)
        assert not drained.done()  # it waits for the two webhooks it has taken
    await drained
    assert [len((await t).result.opened) for t in taken] == [1, 1]
    status, body = await post(h, _body(7))
    assert status == 503
    assert body == {"error": "pager is shutting down, try again later"}
    assert await counts(h.pager.db) == (2, 2, 2)
