"""The console while PostgreSQL is away: a page that says so (503), not a traceback,
and the same console once it is back."""

from __future__ import annotations

import pytest

from tests.fakes.tcp_proxy import TcpProxy
from tests.web.console import POLICY, Console


@pytest.fixture
async def cut_off(cuttable, web_config) -> tuple[Console, TcpProxy]:
    h, proxy = await cuttable(POLICY, web_config=web_config)
    return Console(h), proxy


@pytest.mark.postgres
async def test_pages_say_the_database_is_away_then_work_again(cut_off):
    console, proxy = cut_off
    await console.sign_in("alice")
    await console.page("/")
    proxy.cut()
    page = await console.page("/", status=503)
    assert "Database unavailable" in page
    assert "Paging goes on as soon as it is back." in page
    quiet = await console.client.get("/", headers={"HX-Request": "true"})
    assert quiet.status == 204  # a live refresh keeps what is shown
    assert quiet.headers["HX-Trigger"] == "pager-stale"  # and the header says it is stale
    proxy.restore()
    await console.page("/")
