"""The browser tests' harness: the real app on a real port, driven by Playwright
through Debian's Chromium (Playwright's own browser download cannot work here).

One browser serves the whole session, so the browser tests and these fixtures
run on pytest-asyncio's session event loop (`pytestmark = BROWSER_LOOP`); each
test gets its own app (a FakeClock, the fake notifier, the engine ticked by
the test) and new browser contexts (clean cookies). Part 2 of the console
reuses all of this.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from pager.app import create_app
from pager.clock import FakeClock
from pager.settings import Settings
from pager.store.db import Database
from pager.store.migrate import migrate
from tests.fakes.fake_notifier import FakeNotifier
from tests.harness import API_TOKEN, WEBHOOK_TOKEN, Harness, check_fakes, write_policy
from tests.web.console import PASSWORDS, POLICY, write_web_config

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("PAGER_CHROMIUM", "/usr/bin/chromium")
# Without the background-networking flags Chromium tries to reach Google's
# services, and this machine's closed network refuses (and slows) it.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(os.environ.get("PAGER_ARTIFACTS", ROOT / "artifacts")) / "screenshots"
AXE = ROOT / ".tools" / "axe-core" / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
BROWSER_LOOP = pytest.mark.asyncio(loop_scope="session")


class LiveConsole:
    """pager's app on 127.0.0.1 with the scenario harness (`h`): a FakeClock,
    the fake notifier, `fire()`, `fast_forward()`, `assert_no_more()`."""

    def __init__(self, h: Harness, db: Database) -> None:
        self.h, self.db = h, db

    @classmethod
    async def start(cls, tmp_path: Path, policy: str = POLICY, **settings: Any) -> LiveConsole:
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'console.db'}")
        await migrate(db)
        values = {
            "database_url": db.url,
            "policies": write_policy(tmp_path / "policies", policy),
            "webhook_token": WEBHOOK_TOKEN,
            "api_token": API_TOKEN,
            "web_config": write_web_config(tmp_path / "web.yml"),
            "web_poll_interval": 0.2,
            **settings,
        }
        clock, notifier = FakeClock(), FakeNotifier()
        app = create_app(
            Settings(**values), clock=clock, notifier=notifier, db=db, run_engine=False
        )
        client: TestClient[Any, Any] = TestClient(TestServer(app))
        await client.start_server()
        return cls(Harness(client, clock, notifier), db)

    @property
    def url(self) -> str:
        return str(self.h.client.make_url("")).rstrip("/")

    async def stop(self) -> None:
        await self.h.client.close()
        await self.db.close()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} not found: .ci/install-test-tools.sh installs Debian's chromium")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@pytest_asyncio.fixture(loop_scope="session")
async def live(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[LiveConsole]:
    """The console served for a browser; when the test ends, every page was expected
    (the harness's teardown check, as `make_harness` runs it)."""
    console = await LiveConsole.start(tmp_path)
    try:
        yield console
        check_fakes(request, [console.h.notifier])
    finally:
        await console.stop()


class Tabs:
    """New browser contexts (each its own cookies: another person, another phone).
    A script error on any page fails the test."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.contexts: list[BrowserContext] = []
        self.errors: list[str] = []

    async def open(self, viewport: dict[str, int] = DESKTOP, scheme: str = "light") -> Page:
        context = await self.browser.new_context(
            viewport=viewport,  # type: ignore[arg-type]
            color_scheme=scheme,  # type: ignore[arg-type]
        )
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        page = await context.new_page()
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        return page

    async def close(self) -> None:
        for context in self.contexts:
            await context.close()


@pytest_asyncio.fixture(loop_scope="session")
async def tabs(browser: Browser) -> AsyncIterator[Tabs]:
    opened = Tabs(browser)
    yield opened
    await opened.close()
    assert opened.errors == [], f"script errors on the pages: {opened.errors}"


async def sign_in(
    page: Page, base: str | None, person: str = "alice", password: str | None = None
) -> None:
    """Sign in on the form (at `base`/, or where the page already is when base is None)."""
    if base is not None:
        await page.goto(base + "/")
    await page.get_by_label("Person id").fill(person)
    await page.get_by_label("Password").fill(password or PASSWORDS[person])
    await page.get_by_role("button", name="Sign in").click()


async def screenshot(page: Page, name: str, full_page: bool = True) -> Path:
    """Saved for people to look at (not compared): artifacts/screenshots/NAME.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=full_page)
    return path


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now."""
    if not AXE.exists():
        pytest.fail(f"{AXE} missing: .ci/install-test-tools.sh installs axe-core")
    # Evaluated through the DevTools protocol: the console's CSP (rightly) refuses inline scripts.
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.evaluate(AXE.read_text() + "\n;undefined")
    result = await page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
        AXE_TAGS,
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
