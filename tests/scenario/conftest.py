"""Fixtures of the Twilio scenarios: FakeTwilio on the FakeClock, and the real app
with its real TwilioNotifier pointed at it (the engine driven by the test)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from pager.app import create_app
from pager.clock import FakeClock
from pager.settings import Settings
from pager.store.db import Database
from tests.fakes.fake_twilio import FakeTwilio
from tests.harness import API_TOKEN, WEBHOOK_TOKEN, check_fakes, write_policy
from tests.scenario.twilio_harness import TwilioHarness, twilio_settings

MakeHarness = Callable[..., Awaitable[TwilioHarness]]


@pytest.fixture
async def fake(request: pytest.FixtureRequest, clock: FakeClock) -> AsyncIterator[FakeTwilio]:
    """When the test ends, everything Twilio took must have been expected."""
    async with FakeTwilio(clock=clock) as twilio:
        yield twilio
        check_fakes(request, [twilio])


@pytest.fixture
def make_twilio_harness(
    db: Database, db_url: str, tmp_path: Path, clock: FakeClock, fake: FakeTwilio, aiohttp_client
) -> MakeHarness:
    """The real app with Twilio settings pointed at `fake` (engine driven by the test)."""

    async def start(policy: str, **settings: Any) -> TwilioHarness:
        values = {
            "database_url": db_url,
            "policies": write_policy(tmp_path / "policies", policy),
            "webhook_token": WEBHOOK_TOKEN,
            "api_token": API_TOKEN,
            **twilio_settings(fake),
            **settings,
        }
        app = create_app(Settings(**values), clock=clock, db=db, run_engine=False)
        return TwilioHarness(await aiohttp_client(app), clock, fake)

    return start
