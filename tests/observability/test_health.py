"""/healthz follows the engine; /readyz the engine and a database that takes
a write (not only one that answers): read-only or full SQLite is not ready. A
database that really goes away (PostgreSQL behind a TCP proxy that is cut, or
that black-holes every packet) gives 503s within the database timeout, and
Alertmanager's retries deliver every alert once it is back."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event

from tests.conftest import SHARED
from tests.e2e.alertmanager import Alertmanager
from tests.fakes.tcp_proxy import TcpProxy
from tests.harness import WEBHOOK_TOKEN, Harness
from tests.polling import eventually
from tests.scenario.policies import BASE

AM = "/api/v1/alerts/alertmanager"
EXAMPLE = json.loads((SHARED / "alertmanager" / "example-firing.json").read_text())
DB_TIMEOUT = 1.0  # PAGER_DB_TIMEOUT of the black-holed database: the test waits no longer
HANG_GUARD = 15.0  # seconds: far above any bounded wait here, so only a hang trips it


async def status(h: Harness, path: str) -> tuple[int, dict[str, Any]]:
    resp = await h.client.get(path)
    return resp.status, await resp.json()


# --- liveness: the engine -------------------------------------------------------


async def test_healthz_follows_the_engine_ticks(make_harness):
    h = await make_harness(BASE, tick_interval=5)
    assert (await status(h, "/healthz"))[0] == 503  # never ticked yet
    await h.settle()
    assert (await status(h, "/healthz"))[0] == 200

    h.clock.advance(timedelta(seconds=15))  # 3 intervals: still alive
    assert (await status(h, "/healthz"))[0] == 200
    h.clock.advance(timedelta(seconds=1))  # the engine stopped: no tick for > 3 intervals
    code, body = await status(h, "/healthz")
    assert code == 503
    assert "15s" in body["error"]

    await h.pager.engine.tick()
    assert (await status(h, "/healthz"))[0] == 200


# --- readiness: the engine and a database that takes a write ---------------------


async def test_readyz_needs_an_engine_that_ticks(make_harness):
    h = await make_harness(BASE, tick_interval=5)
    assert await status(h, "/readyz") == (
        503,
        {"status": "not ready", "error": "engine has not ticked in 15s"},
    )
    await h.settle()
    assert await status(h, "/readyz") == (200, {"status": "ready"})
    h.clock.advance(timedelta(seconds=16))  # a stuck engine: webhooks would page nobody
    assert (await status(h, "/readyz"))[1]["error"] == "engine has not ticked in 15s"
    await h.pager.engine.tick()
    assert (await status(h, "/readyz"))[0] == 200


async def on_every_connection(h: Harness, pragma: Callable[[Any], str]) -> Callable[[], Any]:
    """Run a PRAGMA on each SQLite connection from now on; returns the undo."""
    active = True

    def run(dbapi_conn: Any, _record: Any) -> None:
        if active:
            cursor = dbapi_conn.cursor()
            cursor.execute(pragma(dbapi_conn))
            cursor.close()

    event.listen(h.pager.db.engine.sync_engine, "connect", run)
    await h.pager.db.engine.dispose()  # the pooled connections are replaced

    async def undo() -> None:
        nonlocal active
        active = False
        await h.pager.db.engine.dispose()

    return undo


def page_count(dbapi_conn: Any) -> int:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA page_count")
    (count,) = cursor.fetchone()
    cursor.close()
    return int(count)


SQLITE_ONLY = pytest.mark.parametrize("db_kind", ["sqlite"])  # the PRAGMAs are SQLite's


@SQLITE_ONLY
async def test_readyz_503_while_sqlite_is_read_only(make_harness):
    h = await make_harness(BASE)
    await h.settle()
    assert (await status(h, "/readyz"))[0] == 200
    undo = await on_every_connection(h, lambda _conn: "PRAGMA query_only = ON")

    code, body = await status(h, "/readyz")
    assert code == 503
    assert body["error"] == "database does not take writes: attempt to write a readonly database"
    resp = await h.client.post(
        AM, data=json.dumps(EXAMPLE), headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}"}
    )
    assert resp.status == 503  # the webhook agrees: Alertmanager will retry

    await undo()
    assert (await status(h, "/readyz"))[0] == 200


@SQLITE_ONLY
async def test_readyz_503_while_sqlite_is_full(make_harness):
    """No page left to grow into. A small write may still fit a page that has
    room, so webhooks may go on a while; readiness says so before they fail."""
    h = await make_harness(BASE)
    await h.settle()
    assert (await status(h, "/readyz"))[0] == 200
    undo = await on_every_connection(h, lambda conn: f"PRAGMA max_page_count = {page_count(conn)}")

    code, body = await status(h, "/readyz")
    assert code == 503
    assert body["error"] == "database does not take writes: database or disk is full"

    await undo()
    assert (await status(h, "/readyz"))[0] == 200

    await undo()
    assert (await status(h, "/readyz"))[0] == 200


# --- readiness and webhooks: PostgreSQL that goes away ----------------------------


@pytest.fixture
async def behind_proxy(cuttable) -> tuple[Harness, TcpProxy]:
    """The real app on PostgreSQL reached only through a TCP proxy the test can cut."""
    started: tuple[Harness, TcpProxy] = await cuttable(BASE)
    return started


def rejected(h: Harness, reason: str) -> float:
    value = h.pager.metrics.registry.get_sample_value(
        "pager_webhook_rejected_total", {"reason": reason}
    )
    return value or 0.0


@pytest.mark.postgres
async def test_readyz_503_while_the_database_is_away(behind_proxy):
    h, proxy = behind_proxy
    await h.settle()
    assert await status(h, "/readyz") == (200, {"status": "ready"})
    proxy.cut()
    code, body = await status(h, "/readyz")
    assert code == 503
    assert body["error"] == "database unreachable"
    proxy.restore()
    assert (await status(h, "/readyz"))[0] == 200


@pytest.mark.postgres
async def test_black_holed_database_gives_a_503_not_a_hang(cuttable):
    """Packets dropped: nothing refuses, nothing answers. The webhook's 503 comes
    from the database timeout (1 s here; before, it took 32 s and /readyz 5 s)."""
    h, proxy = await cuttable(BASE, db_timeout=DB_TIMEOUT)
    await h.settle()
    assert (await status(h, "/readyz"))[0] == 200
    proxy.black_hole()

    resp = await asyncio.wait_for(
        h.client.post(
            AM, data=json.dumps(EXAMPLE), headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}"}
        ),
        HANG_GUARD,
    )
    assert resp.status == 503
    assert (await resp.json()) == {"error": "database unavailable, try again later"}
    code, body = await asyncio.wait_for(status(h, "/readyz"), HANG_GUARD)
    assert (code, body["error"]) == (503, "database unreachable")

    proxy.restore()
    answer = await h.post(AM, EXAMPLE, token=WEBHOOK_TOKEN)  # the sender's retry
    [incident_id] = answer["incidents"]
    assert len((await h.incident(incident_id))["alerts"]) == 2


@pytest.mark.postgres
async def test_webhook_503_while_the_database_is_away_then_accepted(behind_proxy):
    h, proxy = behind_proxy
    proxy.cut()
    resp = await h.client.post(
        AM, data=json.dumps(EXAMPLE), headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}"}
    )
    assert resp.status == 503
    assert (await resp.json()) == {"error": "database unavailable, try again later"}
    assert rejected(h, "unavailable") == 1

    proxy.restore()
    answer = await h.post(AM, EXAMPLE, token=WEBHOOK_TOKEN)  # the sender's retry
    [incident_id] = answer["incidents"]
    assert len((await h.incident(incident_id))["alerts"]) == 2


@pytest.mark.postgres
@pytest.mark.alertmanager
async def test_alertmanager_retries_until_the_database_is_back(behind_proxy):
    h, proxy = behind_proxy
    am = await Alertmanager.start(str(h.client.make_url(AM)), WEBHOOK_TOKEN, "--group-wait", "0s")
    try:
        proxy.cut()
        fps = {
            await am.fire("alertname=DiskFull", f"instance=db{n}", "severity=critical")
            for n in (1, 2)
        }
        await eventually(lambda: _at_least(h, 2))  # refused twice: Alertmanager retried
        assert (await h.get("/api/v1/incidents", status=503))["error"]
        proxy.restore()
        found = await eventually(lambda: _alerts(h, fps))
        assert len(found) == 1  # one incident, both alerts, nothing lost or doubled
    finally:
        await am.stop()


async def _at_least(h: Harness, n: int) -> bool:
    return rejected(h, "unavailable") >= n


async def _alerts(h: Harness, fingerprints: set[str]) -> list[dict[str, Any]] | None:
    found = (await h.get("/api/v1/incidents"))["incidents"]
    got = set()
    for incident in found:
        got |= {a["fingerprint"] for a in (await h.incident(incident["id"]))["alerts"]}
    return found if got == fingerprints else None
