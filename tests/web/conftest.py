"""Fixtures for the console's tests (the browser's are in tests/web/browser.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.harness import Harness
from tests.web.console import POLICY, Console, write_web_config


@pytest.fixture
def web_config(tmp_path: Path) -> Path:
    return write_web_config(tmp_path / "web.yml")


@pytest.fixture
def start_console(
    make_harness: Callable[..., Awaitable[Harness]], web_config: Path
) -> Callable[..., Awaitable[Console]]:
    async def start(policy: str = POLICY, **settings: Any) -> Console:
        settings.setdefault("web_config", web_config)
        return Console(await make_harness(policy, **settings))

    return start


@pytest.fixture
async def console(start_console: Callable[..., Awaitable[Console]]) -> Console:
    return await start_console()


# The browser tests' fixtures (one Chromium for the whole session).
from tests.web.browser import browser, live, tabs  # noqa: E402, F401
