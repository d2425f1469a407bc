"""The incident practice in a real browser: a review saved as a version, and
an action item added from the review that turns overdue after its deadline."""

from __future__ import annotations

from datetime import timedelta

from playwright.async_api import expect

from tests.web.browser import BROWSER_LOOP, LiveConsole, Tabs, screenshot, sign_in

pytestmark = BROWSER_LOOP


async def resolved_p1(live: LiveConsole) -> int:
    h = live.h
    ident = await h.fire("alertname=CheckoutDown", "severity=critical", summary="Checkout 5xx")
    await h.settle()
    h.notifier.expect("alice", "sms", f"#{ident} CheckoutDown")
    h.notifier.expect("frank", "sms", f"#{ident} OPENED")
    await h.fast_forward(timedelta(minutes=3))
    h.notifier.expect("alice", "voice", f"Incident {ident}: CheckoutDown")  # the call after 1m
    await h.post(f"/api/v1/incidents/{ident}/ack", {"by": "alice"})
    await h.fast_forward(timedelta(minutes=40))
    h.notifier.expect("frank", "sms", f"#{ident} ACKNOWLEDGED")
    await h.post(f"/api/v1/incidents/{ident}/resolve", {"by": "alice"})
    await h.settle()
    h.notifier.expect("frank", "sms", f"#{ident} RESOLVED")
    h.notifier.assert_no_more()  # nobody of level 2 paged after the ack
    return ident


async def test_the_review_form_saves_a_version(live: LiveConsole, tabs: Tabs):
    ident = await resolved_p1(live)
    page = await tabs.open()
    await sign_in(page, live.url, "bob")
    await page.goto(live.url + f"/incidents/{ident}/review")
    figures = page.get_by_role("region", name="In numbers")
    await expect(figures).to_contain_text("3 min")  # time to acknowledge
    await expect(figures).to_contain_text("43 min")  # time to resolve
    await page.get_by_label("What happened").fill("A bad deploy broke checkout.")
    await page.get_by_label("Contributing factors").fill("No canary for the checkout service.")
    await page.get_by_role("button", name="Save as a new version").click()
    await expect(page.locator(".note")).to_have_text("Saved version 1.")
    await expect(page.locator(".version-line")).to_contain_text("Version 1 by Bob Roe")
    await expect(page.get_by_label("What happened")).to_have_value("A bad deploy broke checkout.")
    await page.get_by_label("What went well").fill("The runbook was right.")
    await page.get_by_role("button", name="Save as a new version").click()
    await expect(page.locator(".version-line")).to_contain_text("Version 2 by Bob Roe")
    await page.get_by_text("All 2 versions").click()
    await page.get_by_role("link", name="Version 1").click()
    await expect(page.get_by_label("What went well")).to_have_value("")
    await expect(page.locator(".version-line")).to_contain_text("an older version")
    timeline = await live.h.incident(ident)
    written = [e for e in timeline["timeline"] if e["kind"] == "review_written"]
    assert [(e["actor"], e["detail"]["version"]) for e in written] == [("bob", 1), ("bob", 2)]


async def test_an_action_item_from_a_review_turns_overdue_after_its_deadline(
    live: LiveConsole, tabs: Tabs
):
    ident = await resolved_p1(live)
    page = await tabs.open()
    await sign_in(page, live.url, "alice")  # Europe/London
    await page.goto(live.url + f"/incidents/{ident}/review")
    await page.get_by_label("What is to be done").fill("Add a canary for checkout")
    await page.get_by_label("Owner").select_option("bob")
    await page.get_by_label("Deadline").fill("2026-01-09")  # a Friday
    await page.get_by_role("button", name="Add the action item").click()
    await expect(page.locator(".note")).to_have_text("Action item 1 added for Bob Roe.")
    await page.goto(live.url + "/actions?owner=bob")
    row = page.locator("tr").filter(has_text="Add a canary for checkout")
    await expect(row).to_contain_text("Bob Roe")
    await expect(row).to_contain_text("Fri 9 Jan 2026")
    await expect(row).to_contain_text(f"#{ident}")
    await expect(row).to_contain_text("open")
    await expect(row.locator(".overdue")).to_have_count(0)
    live.h.clock.set(live.h.clock.now().replace(day=9, hour=23, minute=59))  # still the 9th
    await page.reload()
    await expect(row.locator(".overdue")).to_have_count(0)
    live.h.clock.advance(timedelta(minutes=2))  # past 23:59:59 London on the 9th
    await page.reload()
    await expect(row).to_contain_text("overdue")
    await page.get_by_label("Only overdue").check()
    await page.get_by_role("button", name="Show").click()
    await expect(page.locator("tr").filter(has_text="Add a canary")).to_have_count(1)
    await screenshot(page, "actions-overdue-desktop")
