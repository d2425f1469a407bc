"""Every page of the console's part 2 through axe-core (no serious or critical
violations), light and dark, desktop and phone, each photographed into
artifacts/screenshots/ for people to look at (not compared), with nothing
scrolling sideways on the phone."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.async_api import expect

from tests.web.browser import BROWSER_LOOP, DESKTOP, PHONE, LiveConsole, Tabs, sign_in
from tests.web.part2 import PART2_POLICY, SPRING_FORWARD_WEEK
from tests.web.test_a11y_screens import check
from tests.web.test_browser import no_horizontal_scroll

pytestmark = BROWSER_LOOP
SIZES = {"desktop": DESKTOP, "phone": PHONE}


async def a_fortnight(live: LiveConsole) -> int:
    """Two weeks of on-call: a P1 left without review, noise, an override, an action
    item, maintenance now and later, a drill, a heartbeat ping."""
    h = live.h
    h.clock.set(SPRING_FORWARD_WEEK - timedelta(days=12))
    old = await h.fire("alertname=CheckoutDown", "severity=critical", summary="Checkout 5xx")
    await h.settle()
    await h.fast_forward(timedelta(minutes=4))
    await h.post(f"/api/v1/incidents/{old}/ack", {"by": "alice"})
    await h.fast_forward(timedelta(minutes=50))
    await h.post(f"/api/v1/incidents/{old}/resolve", {"by": "alice"})
    await h.post(
        f"/api/v1/incidents/{old}/actions",
        {"title": "Canary for checkout", "owner": "bob", "due": "2026-03-20T18:00:00Z"},
        status=201,
    )
    h.clock.set(SPRING_FORWARD_WEEK - timedelta(days=3, hours=10))  # a Sunday night
    flap = await h.fire("alertname=DiskFlapping", "severity=warning", summary="Disk 91%")
    await h.settle()
    await h.fast_forward(timedelta(minutes=6))
    await h.fire("alertname=DiskFlapping", "severity=warning", status="resolved")
    await h.post("/api/v1/heartbeats/nightly-backup", token="hook-token")
    h.clock.set(SPRING_FORWARD_WEEK)
    await h.post(
        "/api/v1/overrides",
        {
            "rotation": "daily",
            "person": "carol",
            "replaces": "alice",
            "start": "2026-03-27T09:00",
            "end": "2026-03-28T09:00",
            "by": "bob",
        },
        status=201,
    )
    await h.post(
        "/api/v1/maintenance",
        {
            "matchers": ['service="db"'],
            "end": "2026-03-25T14:00:00Z",
            "reason": "database upgrade",
            "by": "bob",
        },
        status=201,
    )
    await h.post(
        "/api/v1/maintenance",
        {
            "matchers": ['team="edge"'],
            "start": "2026-03-30T20:00:00Z",
            "end": "2026-03-30T22:00:00Z",
            "reason": "CDN migration",
        },
        status=201,
    )
    await h.post(
        "/api/v1/drills", {"priority": "P1", "rotation": "daily", "by": "alice"}, status=201
    )
    await h.settle()
    assert flap
    return old


def pages(old: int) -> dict[str, str]:
    return {
        "schedule-week": "/schedule/daily?view=week&start=2026-03-23",
        "schedule-month": "/schedule/daily?view=month&start=2026-03-01",
        "my-oncall": "/my",
        "reviews": "/reviews",
        "review": f"/incidents/{old}/review",
        "actions": "/actions?state=all",
        "maintenance": "/maintenance",
        "heartbeats": "/heartbeats",
        "drills": "/drills",
        "priorities": "/priorities?labels=severity%3Dcritical%0Aservice%3Dapi",
        "health": "/health?since=30d",
    }


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_every_new_page_passes_axe_and_is_photographed(tabs: Tabs, tmp_path, scheme: str):
    live = await LiveConsole.start(tmp_path, PART2_POLICY)
    try:
        old = await a_fortnight(live)
        for size, viewport in SIZES.items():
            page = await tabs.open(viewport, scheme)
            await sign_in(page, live.url)
            await page.goto(live.url + "/my")
            await page.get_by_role("button", name=re.compile("calendar link")).click()
            await expect(
                page.get_by_role("link", name="My shifts, every rotation (.ics)")
            ).to_be_visible()
            for name, path in pages(old).items():
                await page.goto(live.url + path)
                await expect(page.locator("#live")).to_have_text("live")
                await check(page, f"{name}-{size}-{scheme}")
                if size == "phone":
                    assert await no_horizontal_scroll(page), f"{name} scrolls sideways on a phone"
        live.h.notifier.expect_each(  # the fortnight's pages, all of them
            ("carol", "sms", "#1 CheckoutDown"),
            ("frank", "sms", "#1 OPENED"),
            ("frank", "sms", "#1 ACKNOWLEDGED"),
            ("frank", "sms", "#1 RESOLVED"),
            ("alice", "sms", "#2 DiskFlapping"),
            ("bob", "sms", "#2 DiskFlapping"),
            ("bob", "sms", "[DRILL] [P1] #3"),
            ("frank", "sms", "#3 OPENED"),
            ("carol", "sms", "#4 Heartbeat nightly-backup missing"),
        )
        live.h.notifier.assert_no_more()
    finally:
        await live.stop()
