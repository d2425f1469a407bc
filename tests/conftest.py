"""Shared fixtures: databases (SQLite and PostgreSQL), policies, the app."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from pager.app import create_app
from pager.clock import FakeClock
from pager.settings import Settings
from pager.store.db import Database
from pager.store.migrate import migrate
from pager.store.models import Base
from tests.fakes.fake_notifier import FakeNotifier
from tests.fakes.tcp_proxy import TcpProxy
from tests.harness import (
    API_TOKEN,
    CALL_FAILED,
    WEBHOOK_TOKEN,
    Harness,
    check_fakes,
    write_policy,
)
from tests.scratch import create_database, drop_database

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PAGER_SHARED_DIR", ROOT.parent / "shared")).resolve()
PG_ADMIN_URL = os.environ.get("PAGER_TEST_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Remember whether the test's body failed, for the harnesses' teardown check."""
    report = yield
    if report.when == "call":
        item.stash[CALL_FAILED] = report.failed
    return report


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated once."""
    try:
        url = asyncio.run(create_database(PG_ADMIN_URL, "pager_test"))
    except OSError as exc:
        pytest.fail(
            f"PostgreSQL is not answering at {PG_ADMIN_URL}: {exc} "
            "(.ci/run starts it; or run pg_ctlcluster ... start)"
        )

    async def setup() -> None:
        db = Database(url)
        await migrate(db)
        await db.close()

    asyncio.run(setup())
    yield url
    asyncio.run(drop_database(PG_ADMIN_URL, url))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(db_kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if db_kind == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'pager.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    """A migrated, empty database."""
    database = Database(db_url)
    if database.is_sqlite:
        await migrate(database)
    else:
        await truncate(database)
    yield database
    await database.close()


async def truncate(database: Database) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    async with database.engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))  # a Monday, 09:00 UTC


@pytest.fixture
def make_harness(
    request: pytest.FixtureRequest,
    db: Database,
    db_url: str,
    tmp_path: Path,
    clock: FakeClock,
    aiohttp_client: Any,
) -> Iterator[Callable[..., Awaitable[Harness]]]:
    """Start the real app (engine driven by the test) with the given policy YAML;
    when the test ends, every message sent must have been expected."""
    notifiers: list[FakeNotifier] = []

    async def start(policy: str, notifier: FakeNotifier | None = None, **settings: Any) -> Harness:
        """`notifier`: the provider of an earlier harness (a restart keeps it)."""
        directory = write_policy(tmp_path / "policies", policy)
        values = {
            "database_url": db_url,
            "policies": directory,
            "webhook_token": WEBHOOK_TOKEN,
            "api_token": API_TOKEN,
            **settings,
        }
        notifier = notifier or FakeNotifier()
        notifiers.append(notifier)
        app = create_app(
            Settings(**values), clock=clock, notifier=notifier, db=db, run_engine=False
        )
        client = await aiohttp_client(app)
        return Harness(client, clock, notifier)

    yield start
    check_fakes(request, notifiers)


@pytest.fixture
async def cuttable(
    request: pytest.FixtureRequest,
    pg_url: str,
    tmp_path: Path,
    clock: FakeClock,
    aiohttp_client: Any,
) -> AsyncIterator[Callable[..., Awaitable[tuple[Harness, TcpProxy]]]]:
    """Start the real app on PostgreSQL reached only through a TCP proxy the test
    can cut: a database that goes away, for real."""
    opened: list[tuple[TcpProxy, Database]] = []
    notifiers: list[FakeNotifier] = []

    async def start(policy: str, **settings: Any) -> tuple[Harness, TcpProxy]:
        direct = Database(pg_url)
        await truncate(direct)
        await direct.close()
        url = make_url(pg_url)
        proxy = await TcpProxy(url.host or "127.0.0.1", url.port or 5432).start()
        proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        values = {
            "database_url": proxied,
            "policies": write_policy(tmp_path / "policies", policy),
            "webhook_token": WEBHOOK_TOKEN,
            "api_token": API_TOKEN,
            **settings,
        }
        db = Database(proxied, timeout=float(values.get("db_timeout", 5.0)))
        opened.append((proxy, db))
        notifier = FakeNotifier()
        notifiers.append(notifier)
        app = create_app(
            Settings(**values), clock=clock, notifier=notifier, db=db, run_engine=False
        )
        return Harness(await aiohttp_client(app), clock, notifier), proxy

    yield start
    try:
        check_fakes(request, notifiers)
    finally:
        for proxy, db in opened:
            await proxy.close()
            await db.close()
