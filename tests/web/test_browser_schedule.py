"""The schedule in a real browser: the spring-forward day drawn 23 hours long,
overrides made (and refused) in the browser, and `pager oncall` agreeing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from click.testing import CliRunner
from playwright.async_api import expect

from pager.cli import main
from tests.harness import API_TOKEN, check_fakes
from tests.web.browser import BROWSER_LOOP, PHONE, LiveConsole, Tabs, screenshot, sign_in
from tests.web.part2 import PART2_POLICY, SPRING_FORWARD_WEEK

pytestmark = BROWSER_LOOP


@pytest_asyncio.fixture(loop_scope="session")
async def spring(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[LiveConsole]:
    console = await LiveConsole.start(tmp_path, PART2_POLICY)
    console.h.clock.set(SPRING_FORWARD_WEEK)
    try:
        yield console
        check_fakes(request, [console.h.notifier])
    finally:
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
    assert short_box
    assert normal_box
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


async def pager_oncall(live: LiveConsole, *args: str) -> str:
    """`pager oncall ARGS` against the live daemon (in a thread: the daemon runs on this loop)."""
    env = {"PAGER_URL": live.url, "PAGER_API_TOKEN": API_TOKEN}
    result = await asyncio.to_thread(CliRunner().invoke, main, ["oncall", *args], env=env)
    assert result.exit_code == 0, result.output
    return result.output


async def test_an_override_made_in_the_browser_is_what_pager_oncall_says(
    spring: LiveConsole, tabs: Tabs
):
    # Wed 25 Mar 12:00 UTC: bob has the daily rotation until Thu 09:00 GMT.
    before = await pager_oncall(spring, "--rotation", "daily")
    assert "bob" in before
    page = await tabs.open()
    await sign_in(page, spring.url, "alice")
    await page.goto(spring.url + "/schedule/daily?view=week&start=2026-03-23")
    row = page.get_by_role("row").filter(has_text="Wed 25 Mar 09:00 GMT → Thu 26 Mar 09:00 GMT")
    await row.locator("summary").click()
    await row.get_by_label("Who covers for Bob Roe").select_option("carol")
    await row.get_by_role("button", name="Make the override").click()
    await expect(page.get_by_role("status").filter(has_text="Override made")).to_contain_text(
        "Carol Poe covers for Bob Roe in daily"
    )
    today = page.locator('[data-day="2026-03-25"]')
    await expect(today.locator(".seg.override")).to_have_count(1)
    await expect(page.get_by_role("region", name="Shifts table")).to_contain_text(
        "⇄ Carol Poe (for Bob Roe)"
    )
    after = await pager_oncall(spring, "--rotation", "daily")
    line = next(x for x in after.splitlines() if x.startswith("daily"))
    assert "carol" in line, after
    assert "instead of bob" in line, after
    overrides = await spring.h.get("/api/v1/overrides?rotation=daily")
    [made] = overrides["overrides"]
    assert (made["person"], made["replaces"], made["created_by"]) == ("carol", "bob", "alice")
    await expect(page.get_by_role("region", name="Overrides now and ahead")).to_contain_text(
        "made by Alice Doe"
    )
    await screenshot(page, "schedule-override-desktop")


async def test_an_overlapping_override_is_refused_with_its_reason(spring: LiveConsole, tabs: Tabs):
    await spring.h.post(
        "/api/v1/overrides",
        {
            "rotation": "daily",
            "person": "carol",
            "start": "2026-03-27T09:00",
            "end": "2026-03-28T09:00",
            "by": "bob",
        },
        status=201,
    )
    page = await tabs.open()
    await sign_in(page, spring.url, "alice")
    await page.goto(spring.url + "/schedule/daily?view=week&start=2026-03-23")
    form = page.locator("#range-form")
    await form.get_by_label("Who is on call").select_option("alice")
    await form.get_by_label("From (Europe/London)").fill("2026-03-27T18:00")
    await form.get_by_label("Until (Europe/London)").fill("2026-03-28T12:00")
    await form.get_by_role("button", name="Make the override").click()
    error = page.locator("#override-error")
    await expect(error).to_contain_text("Refused: it overlaps Carol Poe's override of the whole")
    await expect(error).to_contain_text("Fri 27 Mar 09:00 GMT to Sat 28 Mar 09:00 GMT")
    await expect(form.get_by_label("From (Europe/London)")).to_have_value("2026-03-27T18:00")
    overrides = await spring.h.get("/api/v1/overrides?rotation=daily")
    assert len(overrides["overrides"]) == 1  # nothing was written
    await error.scroll_into_view_if_needed()
    await screenshot(page, "schedule-refused-desktop", full_page=False)
