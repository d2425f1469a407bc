"""Live updates: the SSE stream of an open console tab."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

import aiohttp
from sqlalchemy import event

from pager.web.state import CONSOLE
from tests.harness import Harness
from tests.observability.daemon import Daemon
from tests.polling import eventually
from tests.web.console import PASSWORDS, POLICY, Console, csrf_of, write_web_config

Events = list[tuple[str, str, str]]  # (event, id, data)


async def read_events(resp: Any, into: Events, until: int) -> None:
    """Parse the stream into (event, id, data) until `until` events came."""
    current: dict[str, str] = {}
    while len(into) < until:
        line = (await resp.content.readline()).decode()
        if line == "":
            return  # the stream ended
        line = line.rstrip("\r\n")
        if not line:
            if "data" in current:
                into.append(
                    (current.get("event", "message"), current.get("id", ""), current["data"])
                )
            current = {}
        elif not line.startswith(":"):
            key, _, value = line.partition(":")
            current[key] = value.removeprefix(" ")


def live(console: Console) -> Any:
    return console.h.client.app[CONSOLE].broadcaster


async def test_an_alert_reaches_an_open_stream_with_an_announcement(console: Console):
    await console.sign_in("alice")
    async with console.client.get("/events") as stream:
        assert stream.status == 200
        assert stream.headers["Content-Type"] == "text/event-stream"
        await eventually(lambda: live(console).streams == 1, what="subscribed")
        got: Events = []
        reader = asyncio.ensure_future(read_events(stream, got, 2))
        ident = await console.h.fire("alertname=Down", "severity=critical")
        await asyncio.wait_for(reader, 10)
    assert [e for e, _, _ in got] == ["change", "announce"]
    marker = got[0][1]
    assert marker == got[0][2]
    assert int(marker) == live(console).marker > 0
    assert f"New P1 incident #{ident}: Down" in got[1][2]
    assert f'href="/incidents/{ident}"' in got[1][2]


async def test_a_reconnecting_tab_that_missed_a_change_hears_of_it_at_once(console: Console):
    await console.sign_in("alice")
    await console.h.fire("alertname=Down", "severity=critical")
    async with console.client.get("/events", headers={"Last-Event-ID": "0"}) as stream:
        got: Events = []
        await asyncio.wait_for(read_events(stream, got, 1), 10)
    marker = live(console).marker
    assert marker > 0
    assert got == [("change", str(marker), str(marker))]


async def test_a_tab_that_saw_the_newest_change_is_not_told_it_again(console: Console):
    await console.sign_in("alice")
    await console.h.fire("alertname=Down", "severity=critical")
    page = await console.page("/")
    since = page.split("/events?since=")[1].split('"')[0]
    assert int(since) > 0  # the page says which change it was built at
    async with console.client.get(f"/events?since={since}") as stream:
        got: Events = []
        reader = asyncio.ensure_future(read_events(stream, got, 1))
        await eventually(lambda: live(console).checks > 0, what="the watcher looked")
        await asyncio.sleep(0.3)
        assert got == []
        await console.h.fire("alertname=Other", "severity=critical")
        await asyncio.wait_for(reader, 10)
    assert got[0][0] == "change"
    assert int(got[0][1]) > int(since)


async def test_nobody_watching_means_no_database_checks(start_console):
    console = await start_console(web_poll_interval=0.02)
    await console.h.fire("alertname=Down", "severity=critical")  # pokes the watcher
    await asyncio.sleep(0.3)
    assert live(console).checks == 0
    await console.sign_in("alice")
    async with console.client.get("/events"):
        await eventually(lambda: live(console).checks > 3, what="checks while watched")


async def test_a_stream_needs_a_session(console: Console):
    resp = await console.client.get("/events")
    assert resp.status == 401


async def test_another_replicas_change_is_noticed_by_polling(
    start_console, make_harness, web_config
):
    here = await start_console(web_poll_interval=0.1)
    there: Harness = await make_harness(POLICY, web_config=web_config, web_poll_interval=0.1)
    await here.sign_in("alice")
    async with here.client.get("/events") as stream:
        got: Events = []
        reader = asyncio.ensure_future(read_events(stream, got, 2))
        # Subscribed, and the watcher has looked where things are: a change committed
        # before that look is where the stream starts, not a change (on a busy
        # machine the other replica's alert came first, and no event followed).
        watcher = live(here)
        await eventually(lambda: watcher.streams == 1 and watcher.checks >= 1, what="looked")
        ident = await there.fire("alertname=Elsewhere", "severity=critical")
        await asyncio.wait_for(reader, 10)
    assert [e for e, _, _ in got] == ["change", "announce"]
    assert f"#{ident}: Elsewhere" in got[1][2]


async def test_one_database_check_per_interval_for_all_streams(start_console):
    console = await start_console(web_poll_interval=0.05)
    watcher = live(console)
    await console.sign_in("alice")
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        if "max(incident_events.id)" in sql:
            statements.append(sql)

    engine = console.h.pager.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", seen)
    streams = [await console.client.get("/events") for _ in range(5)]
    try:
        await eventually(lambda: watcher.streams == 5, what="five streams")
        start_checks, start_statements = watcher.checks, len(statements)
        await eventually(lambda: watcher.checks >= start_checks + 10, what="ten more checks")
        checks, queries = watcher.checks - start_checks, len(statements) - start_statements
        assert abs(queries - checks) <= 1  # one query per check, not one per stream
    finally:
        event.remove(engine, "before_cursor_execute", seen)
        for stream in streams:
            stream.close()


async def test_shutdown_ends_the_streams_and_the_daemon_exits(tmp_path):
    config = write_web_config(tmp_path / "web.yml")
    daemon = await Daemon.start(tmp_path, POLICY, PAGER_WEB_CONFIG=str(config))
    try:
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as session:
            form = await (await session.get(daemon.url + "/sign-in")).text()
            data = {"csrf": csrf_of(form), "person": "alice", "password": PASSWORDS["alice"]}
            signed = await session.post(daemon.url + "/sign-in", data=data, allow_redirects=False)
            assert signed.status == 303
            stream = await session.get(daemon.url + "/events")
            assert stream.status == 200
            daemon.proc.send_signal(signal.SIGTERM)
            rest = await asyncio.wait_for(stream.content.read(), 20)  # to the end of the stream
            assert b"event: " not in rest
        code = await asyncio.get_running_loop().run_in_executor(None, daemon.proc.wait, 25)
        assert code == 0, daemon.output()
    finally:
        daemon.stop()
