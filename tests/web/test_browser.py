"""The console in a real browser: Playwright driving Debian's Chromium.

The app runs on a real port with a FakeClock and the fake notifier, so
"acknowledge stops the escalation" is asserted by moving time and seeing no
further page (`assert_no_more()`)."""

from __future__ import annotations

from datetime import timedelta

from playwright.async_api import Page, expect

from tests.fakes.prefix_proxy import PrefixProxy
from tests.web.browser import BROWSER_LOOP, PHONE, LiveConsole, Tabs, screenshot, sign_in

pytestmark = BROWSER_LOOP


async def fire_p1(live: LiveConsole, name: str = "HighErrorRate") -> int:
    ident = await live.h.fire(
        f"alertname={name}",
        "severity=critical",
        "service=api",
        summary="5xx ratio above 5% for 10 minutes",
        annotations={"runbook_url": "https://runbooks.example.com/api/errors"},
    )
    await live.h.settle()
    return ident


def expect_p1_paged(live: LiveConsole, ident: int, name: str = "HighErrorRate") -> None:
    """What fire_p1 pages at once: alice, on call, by SMS and frank, the stakeholder."""
    live.h.notifier.expect("alice", "sms", f"#{ident} {name}")
    live.h.notifier.expect("frank", "sms", f"#{ident} OPENED: {name}")


async def test_sign_in_with_a_web_config_user(live: LiveConsole, tabs: Tabs):
    page = await tabs.open()
    await page.goto(live.url + "/incidents")
    await expect(page).to_have_url(live.url + "/sign-in?next=%2Fincidents")
    await sign_in(page, None)
    await expect(page.get_by_role("heading", name="Incidents", exact=True)).to_be_visible()
    await expect(page.get_by_role("navigation", name="Main")).to_contain_text("Alice Doe")


async def test_a_wrong_password_is_refused(live: LiveConsole, tabs: Tabs):
    page = await tabs.open()
    await sign_in(page, live.url, "alice", "not her password")
    await expect(page.get_by_role("alert")).to_have_text("Wrong person id or password.")
    await expect(page.get_by_label("Password")).to_be_visible()
    await page.goto(live.url + "/")
    await expect(page.get_by_role("heading", name="Sign in to pager")).to_be_visible()


async def test_the_now_page_shows_who_is_on_call(live: LiveConsole, tabs: Tabs):
    page = await tabs.open()
    await sign_in(page, live.url)
    oncall = page.get_by_role("table").filter(has_text="Rotation")
    primary = oncall.get_by_role("row").filter(has=page.get_by_role("rowheader", name="primary"))
    await expect(primary).to_contain_text("Alice Doe")
    await expect(primary).to_contain_text("Mon 12 Jan 09:00 GMT")  # until, in alice's zone
    await expect(primary).to_contain_text("Carol Poe")  # next
    await expect(page.get_by_text("You are on call: primary.")).to_be_visible()


async def test_an_alert_posted_to_the_webhook_appears_without_reload(live: LiveConsole, tabs: Tabs):
    page = await tabs.open()
    await sign_in(page, live.url)
    await expect(page.get_by_role("heading", name="Nothing is burning")).to_be_visible()
    await expect(page.locator("#live")).to_have_text("live")
    await page.evaluate("window.sameDocument = true")
    ident = await fire_p1(live)
    expect_p1_paged(live, ident)
    card = page.locator(f"#incident-{ident}")
    await expect(card).to_contain_text(f"#{ident} HighErrorRate api")
    await expect(card.get_by_role("button", name=f"Acknowledge #{ident}")).to_be_visible()
    announcer = page.locator("#announcer")
    await expect(announcer).to_contain_text(f"New P1 incident #{ident}: HighErrorRate")
    assert await page.evaluate("window.sameDocument") is True  # no reload happened


async def test_acknowledge_in_the_browser_stops_the_escalation(live: LiveConsole, tabs: Tabs):
    notifier = live.h.notifier
    page = await tabs.open()
    await sign_in(page, live.url)
    ident = await fire_p1(live)
    notifier.expect("alice", "sms", "HighErrorRate")
    notifier.expect("frank", "sms", "OPENED")
    card = page.locator(f"#incident-{ident}")
    await card.get_by_role("button", name=f"Acknowledge #{ident}").click()
    await expect(card).to_contain_text("Acknowledged by Alice Doe")
    await expect(page.get_by_role("navigation", name="Main")).to_be_visible()  # the whole page
    await expect(page.get_by_text(f"Acknowledged #{ident}.", exact=True)).to_be_visible()
    await live.h.fast_forward(timedelta(minutes=30))  # past every ack timeout
    notifier.expect("frank", "sms", "ACKNOWLEDGED")
    notifier.assert_no_more()  # no call to alice, nobody of level 2 paged
    await page.get_by_role("link", name=f"#{ident} HighErrorRate api").first.click()
    timeline = page.get_by_role("region", name="Timeline")
    await expect(timeline).to_contain_text("acknowledged by Alice Doe via console")
    sent = page.get_by_role("region", name="Notifications table")
    await expect(sent).to_contain_text("cancelled")  # alice's call, due after 1m


async def test_a_second_browser_session_sees_the_change_live(live: LiveConsole, tabs: Tabs):
    ident = await fire_p1(live)
    expect_p1_paged(live, ident)
    alice, bob = await tabs.open(), await tabs.open()
    await sign_in(alice, live.url, "alice")
    await sign_in(bob, live.url, "bob")
    await bob.goto(live.url + f"/incidents/{ident}")
    await expect(bob.locator("#live")).to_have_text("live")
    await bob.evaluate("window.sameDocument = true")
    card = alice.locator(f"#incident-{ident}")
    await card.get_by_role("button", name=f"Acknowledge #{ident}").click()
    status = bob.locator("#incident-live .status")
    await expect(status).to_contain_text("Acknowledged by Alice Doe")
    timeline = bob.get_by_role("region", name="Timeline")
    await expect(timeline).to_contain_text("acknowledged by Alice Doe")
    await expect(bob.get_by_role("button", name=f"Acknowledge #{ident}")).to_have_count(0)
    assert await bob.evaluate("window.sameDocument") is True


async def test_a_form_post_without_the_csrf_token_is_refused(live: LiveConsole, tabs: Tabs):
    ident = await fire_p1(live)
    expect_p1_paged(live, ident)
    page = await tabs.open()
    await sign_in(page, live.url)
    await expect(page.locator("#live")).to_have_text("live")
    await page.evaluate("document.querySelectorAll('input[name=csrf]').forEach(e => e.remove())")
    card = page.locator(f"#incident-{ident}")
    await card.get_by_role("button", name=f"Acknowledge #{ident}").click()
    await expect(page.get_by_role("heading", name="Form refused")).to_be_visible()
    assert (await live.h.incident(ident))["state"] == "triggered"


async def test_the_phone_shows_the_ack_button_without_horizontal_scrolling(
    live: LiveConsole, tabs: Tabs
):
    ident = await fire_p1(live, "HighErrorRateOnTheCheckoutServiceInEuropeWestWithAVeryLongName")
    expect_p1_paged(live, ident, "HighErrorRateOnTheCheckoutServiceInEuropeWestWithAVeryLongName")
    page = await tabs.open(PHONE, "dark")
    await sign_in(page, live.url)
    ack = page.get_by_role("button", name=f"Acknowledge #{ident}")
    await expect(ack).to_be_in_viewport()
    assert await no_horizontal_scroll(page)
    await page.goto(live.url + f"/incidents/{ident}")
    ack = page.get_by_role("button", name=f"Acknowledge #{ident}")
    await expect(ack).to_be_in_viewport()
    box = await ack.bounding_box()
    assert box is not None
    assert box["y"] > PHONE["height"] / 2  # in the lower half: under the thumb
    await page.mouse.wheel(0, 5000)
    await expect(ack).to_be_in_viewport()  # it stays there while reading the timeline
    assert await no_horizontal_scroll(page)
    await screenshot(page, "incident-phone-scrolled", full_page=False)


async def no_horizontal_scroll(page: Page) -> bool:
    return bool(
        await page.evaluate(
            "document.documentElement.scrollWidth <= window.innerWidth"
            " && document.body.scrollWidth <= window.innerWidth"
        )
    )


async def test_keyboard_alone_signs_in_and_acknowledges(live: LiveConsole, tabs: Tabs):
    ident = await fire_p1(live)
    expect_p1_paged(live, ident)
    page = await tabs.open()
    await page.goto(live.url + "/")
    await page.keyboard.press("Tab")
    await expect(page.locator(":focus")).to_have_text("Skip to content")
    for _ in range(10):  # through the header to the form
        if await page.evaluate("document.activeElement.id") == "person":
            break
        await page.keyboard.press("Tab")
    await page.keyboard.type("alice")
    await page.keyboard.press("Tab")
    await page.keyboard.type("alice-password")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name="1 open incident")).to_be_visible()
    for _ in range(30):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement.id") == f"ack-{ident}":
            break
    else:
        raise AssertionError("Tab never reached the Acknowledge button")
    await page.keyboard.press("Enter")
    await expect(page.locator(f"#incident-{ident}")).to_contain_text("Acknowledged by Alice Doe")


async def test_served_under_a_sub_path_behind_a_reverse_proxy(tmp_path, tabs: Tabs):
    proxy = await PrefixProxy("", "/pager").start()
    live = await LiveConsole.start(tmp_path, public_url=proxy.url + "/")
    proxy.upstream = live.url
    try:
        page = await tabs.open()
        await page.goto(proxy.url + "/")
        await expect(page).to_have_url(proxy.url + "/sign-in")
        await sign_in(page, None)
        await expect(page).to_have_url(proxy.url + "/")
        await expect(page.locator("#live")).to_have_text("live")  # the stream, through the proxy
        ident = await fire_p1(live)
        card = page.locator(f"#incident-{ident}")
        await card.get_by_role("button", name=f"Acknowledge #{ident}").click()
        await expect(card).to_contain_text("Acknowledged by Alice Doe")
        expect_p1_paged(live, ident)
        live.h.notifier.assert_no_more()  # its own console, not `live`'s teardown check
        await card.get_by_role("link", name=f"#{ident} HighErrorRate api").click()
        await expect(page).to_have_url(proxy.url + f"/incidents/{ident}")
        await expect(page.get_by_role("region", name="Timeline")).to_contain_text("acknowledged")
        asked = [path for path, _ in proxy.seen]
        assert all(path.startswith("/pager/") for path in asked), asked
        assert [seen for seen in proxy.seen if seen[1] >= 400] == []
        assert any(path.startswith("/pager/static/htmx.min.") for path in asked)
        assert any(path.startswith("/pager/events") for path in asked)
    finally:
        await live.stop()
        await proxy.close()


async def test_a_live_refresh_keeps_the_keyboard_focus(live: LiveConsole, tabs: Tabs):
    first = await fire_p1(live)
    expect_p1_paged(live, first)
    page = await tabs.open()
    await sign_in(page, live.url)
    await expect(page.locator("#live")).to_have_text("live")
    await page.locator(f"#ack-{first}").focus()
    second = await fire_p1(live, "AnotherAlert")
    expect_p1_paged(live, second, "AnotherAlert")
    await expect(page.locator(f"#incident-{second}")).to_be_visible()  # the list was swapped
    assert await page.evaluate("document.activeElement.id") == f"ack-{first}"
