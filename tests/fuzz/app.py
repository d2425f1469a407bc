"""The real app on a real database, driven from plain (non-async) test functions,
so hypothesis can run many examples against one app: each request runs on the
app's own event loop (`asyncio.Runner`).

`check(method, path, ...)` sends one request and holds it to the contract for
any input: no 5xx, nothing logged at ERROR or with a traceback, and after a
4xx every table exactly as before.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from yarl import URL

from pager.app import create_app
from pager.clock import FakeClock
from pager.services import PAGER, Pager
from pager.settings import Settings
from pager.store.db import Database
from pager.store.migrate import migrate
from tests.conftest import truncate
from tests.fakes.fake_notifier import FakeNotifier
from tests.harness import API_TOKEN, WEBHOOK_TOKEN, write_policy
from tests.snapshot import snapshot

T = TypeVar("T")
TWILIO: dict[str, Any] = {
    "twilio_account_sid": "AC" + "0" * 32,
    "twilio_auth_token": "fuzz-auth-token",
    "twilio_from": "+15005550006",
    "public_url": "https://pager.example.test",
}


class Trouble(logging.Handler):
    """Collects records at ERROR or above, and any with a traceback."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR or record.exc_info:
            self.records.append(record)


class FuzzApp:
    def __init__(self, runner: asyncio.Runner, client: TestClient[Any, Any], db: Database) -> None:
        self.runner, self.client, self.db = runner, client, db
        self.trouble = Trouble()

    @property
    def pager(self) -> Pager:
        pager: Pager = self.client.app[PAGER]
        return pager

    def seed(self) -> None:
        """One P1 incident paged: alice's SMS sent (FAKE000001), her call pending."""
        alert = {"summary": "seed", "labels": {"severity": "critical"}, "dedup_key": "seed"}
        headers = {"Authorization": f"Bearer {WEBHOOK_TOKEN}"}
        assert self.check("POST", "/api/v1/alerts", json.dumps(alert), headers) == 200
        self.run(self.pager.engine.tick())
        self.run(self.pager.engine.drain())  # the sends it started

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return self.runner.run(work)

    def check(
        self, method: str, path: str, data: Any = None, headers: dict[str, str] | None = None
    ) -> int:
        """Send one request; fail on a 5xx, on trouble in the logs, or on a 4xx
        that changed a table. Returns the status."""
        return self.run(self._check(method, path, data, headers or {}))

    async def _check(self, method: str, path: str, data: Any, headers: dict[str, str]) -> int:
        before = await snapshot(self.db)
        self.trouble.records.clear()
        url = URL(str(self.client.make_url("")).rstrip("/") + path, encoded=True)
        async with self.client.session.request(method, url, data=data, headers=headers) as resp:
            status, text = resp.status, await resp.text()
        assert status < 500, f"{status} {text}"
        assert not self.trouble.records, [r.getMessage() for r in self.trouble.records]
        if 400 <= status < 500:
            assert await snapshot(self.db) == before, f"a {status} changed the database: {text}"
        return status


@contextmanager
def fuzz_app(db_url: str, tmp_path: Path, policy: str) -> Iterator[FuzzApp]:
    with asyncio.Runner() as runner:
        db = Database(db_url)
        runner.run(migrate(db) if db.is_sqlite else truncate(db))
        settings = Settings(
            database_url=db_url,
            policies=write_policy(tmp_path / "policies", policy),
            webhook_token=WEBHOOK_TOKEN,
            api_token=API_TOKEN,
            **TWILIO,
        )
        clock = FakeClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))  # a Monday
        app = create_app(settings, clock=clock, notifier=FakeNotifier(), db=db, run_engine=False)
        client = runner.run(_serve(app))
        fuzz = FuzzApp(runner, client, db)
        logging.getLogger().addHandler(fuzz.trouble)
        try:
            yield fuzz
        finally:
            logging.getLogger().removeHandler(fuzz.trouble)
            runner.run(client.close())
            runner.run(db.close())


async def _serve(app: web.Application) -> TestClient[Any, Any]:
    client: TestClient[Any, Any] = TestClient(TestServer(app))
    await client.start_server()
    return client
