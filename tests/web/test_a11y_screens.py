"""Every console page through axe-core (no serious or critical violations), in
light and dark mode, at desktop and phone width; a screenshot of each is saved
under artifacts/screenshots/ for people to look at (not compared)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.async_api import Page, expect

from tests.web.browser import (
    BROWSER_LOOP,
    DESKTOP,
    PHONE,
    LiveConsole,
    Tabs,
    axe_violations,
    screenshot,
    sign_in,
)

pytestmark = BROWSER_LOOP
SIZES = {"desktop": DESKTOP, "phone": PHONE}


async def a_busy_night(live: LiveConsole) -> dict[str, int]:
    """Incidents in every state, as at 3 a.m.: one paging, one acknowledged, one resolved."""
    h = live.h
    down = await h.fire(
        "alertname=CheckoutDown",
        "severity=critical",
        "service=checkout",
        summary="Checkout returns 5xx for 30% of requests",
        annotations={
            "runbook_url": "https://runbooks.example.com/checkout",
            "dashboard": "https://grafana.example.com/d/checkout",
        },
    )
    disk = await h.fire(
        "alertname=DiskFilling",
        "severity=warning",
        "instance=db-2",
        summary="Disk 91% full on db-2, full in about 4 hours",
    )
    old = await h.fire(
        "alertname=CertExpiry",
        "severity=warning",
        "service=edge",
        summary="TLS certificate expires in 6 days",
    )
    await h.settle()
    h.notifier.expect_each(
        ("alice", "sms", f"#{down} CheckoutDown"),
        ("frank", "sms", f"#{down} OPENED"),
        ("alice", "sms", f"#{disk} DiskFilling"),
        ("alice", "sms", f"#{old} CertExpiry"),
    )
    await h.post(f"/api/v1/incidents/{disk}/ack", {"by": "bob"})
    await h.post(f"/api/v1/incidents/{old}/resolve", {"by": "alice"})
    await h.fast_forward(timedelta(minutes=2))
    h.notifier.expect("alice", "voice", f"Incident {down}: CheckoutDown")  # still paging
    h.notifier.assert_no_more()
    return {"down": down, "disk": disk, "old": old}


def pages(ids: dict[str, int]) -> dict[str, str]:
    return {
        "now": "/",
        "incidents": "/incidents?state=all",
        "incident": f"/incidents/{ids['down']}",
        "incident-acknowledged": f"/incidents/{ids['disk']}",
        "review": f"/incidents/{ids['old']}/review",
        "not-found": "/incidents/404",
    }


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_every_page_passes_axe_and_is_photographed(
    live: LiveConsole, tabs: Tabs, scheme: str
):
    for size, viewport in SIZES.items():
        page = await tabs.open(viewport, scheme)
        await page.goto(live.url + "/sign-in")
        await check(page, f"sign-in-{size}-{scheme}")
        await sign_in(page, live.url, "alice", "wrong")
        await check(page, f"sign-in-refused-{size}-{scheme}")
        await sign_in(page, live.url)
        await expect(page.get_by_role("heading", name="Nothing is burning")).to_be_visible()
        await check(page, f"now-calm-{size}-{scheme}")
    ids = await a_busy_night(live)
    for size, viewport in SIZES.items():
        page = await tabs.open(viewport, scheme)
        await sign_in(page, live.url)
        for name, path in pages(ids).items():
            await page.goto(live.url + path)
            await expect(page.locator("#live")).to_have_text("live")
            await check(page, f"{name}-{size}-{scheme}")


async def check(page: Page, name: str) -> None:
    await screenshot(page, name)
    violations = await axe_violations(page)
    assert violations == [], f"{name}: {violations}"


async def test_a_new_incident_is_announced_in_a_live_region(live: LiveConsole, tabs: Tabs):
    page = await tabs.open()
    await sign_in(page, live.url)
    region = page.locator("[aria-live=polite]")
    await expect(region).to_have_attribute("role", "status")
    await expect(page.locator("#live")).to_have_text("live")
    ident = await live.h.fire("alertname=Down", "severity=critical")
    await expect(region).to_have_text(f"New P1 incident #{ident}: Down")
    landmarks = await page.evaluate(
        "[...document.querySelectorAll('header, nav, main')].map(e => e.tagName.toLowerCase())"
    )
    assert landmarks == ["header", "nav", "main"]
