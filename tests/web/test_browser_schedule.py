"""The schedule in a real browser: the spring-forward day drawn 23 hours long,
overrides made (and refused) in the browser, and `pager oncall` agreeing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from click.testing import CliRunner
from playwright.async_api import expect

from pager.cli import main
from tests.harness import API_TOKEN
from tests.web.browser import BROWSER_LOOP, PHONE, LiveConsole, Tabs, screenshot, sign_in
from tests.web.part2 import PART2_POLICY, SPRING_FORWARD_WEEK

pytestmark = BROWSER_LOOP


@pytest_asyncio.fixture(loop_scope="session")
async def spring(tmp_path: Path) -> AsyncIterator[LiveConsole]:
    console = await LiveConsole.start(tmp_path, PART2_POLICY)
    console.h.clock.set(SPRING_FORWARD_WEEK)
    yield console
    await console.stop()


async def test_the_week_of_the_spring_change_shows_a_23_hour_day(spring: LiveConsole, tabs: Tabs):
    page = await tabs.open()
    await sign_in(page, spring.url)
    await page.goto(spring.url + "/schedule/daily?view=week&start=2026-03-23")
    short = page.locator('[data-day="2026-03-29"]')
    await expect(short).to_have_attribute("data-hours", "23")
    await expect(short).to_contain_text("23 h: the clocks go forward")
    normal = page.locator('[data-day="2026-03-28"]')
    await expect(normal).to_have_attribute("data-hours", "24")
    short_box = await short.locator("svg.strip").bounding_box()
    normal_box = await normal.locator("svg.strip").bounding_box()
    assert short_box and normal_box
    assert abs(short_box["width"] / normal_box["width"] - 23 / 24) < 0.01
    # Saturday's 09:00 handoff to Sunday's is alice's 23-hour shift (the README's example).
    shifts = page.get_by_role("region", name="Shifts table")
    await expect(shifts).to_contain_text("Sat 28 Mar 09:00 GMT")
    await expect(shifts).to_contain_text("Sun 29 Mar 09:00 BST")
    await screenshot(page, "schedule-week-desktop")
    phone = await tabs.open(PHONE)
    await sign_in(phone, spring.url)
    await phone.goto(spring.url + "/schedule/daily?view=week&start=2026-03-23")
    await screenshot(phone, "schedule-week-phone")
    await phone.goto(spring.url + "/schedule/daily?view=month&start=2026-03-01")
    await screenshot(phone, "schedule-month-phone")
    await page.goto(spring.url + "/schedule/daily?view=month&start=2026-03-01")
    await screenshot(page, "schedule-month-desktop")
