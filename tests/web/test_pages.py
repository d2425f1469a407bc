"""What the console's pages say, rendered by the server (the browser tests drive them)."""

from __future__ import annotations

from datetime import timedelta

from tests.web.console import Console


async def signed_in(console: Console, person: str = "alice") -> Console:
    await console.sign_in(person)
    return console


async def test_now_says_what_is_burning_and_who_is_on_call(console: Console):
    await signed_in(console)
    calm = await console.page("/")
    assert "Nothing is burning" in calm
    # The clock starts Mon 2026-01-05 09:00 UTC: alice's first week of primary.
    assert '<th scope="row">primary</th>' in calm
    assert "Alice Doe" in calm
    assert "Carol Poe" in calm
    assert "Mon 12 Jan 09:00 GMT" in calm  # until, in the viewer's zone
    assert "You are on call: primary." in calm
    ident = await console.h.fire("alertname=HighErrorRate", "severity=critical", "service=api")
    await console.h.settle()
    page = await console.page("/")
    assert "1 open incident" in page
    assert f"#{ident} HighErrorRate api" in page
    assert "Level 1 of 2, paging Alice Doe" in page
    assert "Alice Doe: SMS sent · call waiting" in page
    assert f'id="ack-{ident}"' in page
    assert "My incidents" in page
    assert f'href="/incidents/{ident}">#{ident}' in page
    console.h.notifier.expect_each(
        ("alice", "sms", f"#{ident} HighErrorRate"), ("frank", "sms", f"#{ident} OPENED")
    )


async def test_now_lists_the_highest_priority_first(console: Console):
    await signed_in(console)
    p2 = await console.h.fire("alertname=Disk", "severity=warning")
    p1 = await console.h.fire("alertname=Down", "severity=critical")
    page = await console.page("/")
    assert page.index(f"#{p1} Down") < page.index(f"#{p2} Disk")


async def test_acknowledge_records_the_person_and_the_console(console: Console):
    ident = await console.h.fire("alertname=Down", "severity=critical")
    await signed_in(console, "bob")
    resp = await console.post(f"/incidents/{ident}/ack")
    assert resp.headers["Location"] == "/"
    incident = await console.h.incident(ident)
    assert incident["acked_by"] == "bob"
    acked = next(e for e in incident["timeline"] if e["kind"] == "acknowledged")
    assert (acked["actor"], acked["detail"]["via"]) == ("bob", "console")
    page = await console.page("/")
    assert "Acknowledged #1." in page  # the note of what was just done
    assert "Acknowledged by Bob Roe 0 s ago" in page


async def test_a_refused_action_is_shown_inline_with_who_and_when(console: Console):
    ident = await console.h.fire("alertname=Down", "severity=critical")
    await signed_in(console, "bob")
    await console.post(f"/incidents/{ident}/ack")
    console.h.clock.advance(timedelta(minutes=3))
    await console.post("/sign-out")
    await console.sign_in("alice")
    back = f"/incidents/{ident}"
    resp = await console.post(f"/incidents/{ident}/ack", {"back": back}, status=409)
    page = await resp.text()
    assert resp.content_type == "text/html"
    assert f"#{ident} is already acknowledged by Bob Roe, 3 min ago." in page
    assert 'role="alert"' in page
    assert resp.headers["HX-Push-Url"] == back


async def test_escalate_and_resolve(console: Console):
    ident = await console.h.fire("alertname=Down", "severity=critical")
    await console.h.settle()
    console.h.notifier.expect("alice", "sms", "Down")
    console.h.notifier.expect("frank", "sms", "OPENED")
    await signed_in(console)
    await console.post(f"/incidents/{ident}/escalate")
    await console.h.settle()
    console.h.notifier.expect("bob", "sms", "Down")
    await console.post(f"/incidents/{ident}/resolve")
    await console.h.settle()
    console.h.notifier.expect("frank", "sms", "RESOLVED")
    console.h.notifier.assert_no_more()
    kinds = [(e["kind"], e["actor"]) for e in (await console.h.incident(ident))["timeline"]]
    assert ("escalate_requested", "alice") in kinds
    assert ("resolved", "alice") in kinds


async def test_the_incident_page_has_everything(console: Console):
    ident = await console.h.fire(
        "alertname=HighErrorRate",
        "severity=critical",
        "service=<script>alert(1)</script>",
        summary="5xx above 5%",
        annotations={
            "runbook_url": "https://runbooks.example.com/api",
            "dashboard": "https://grafana.example.com/d/api",
            "sneaky": "javascript:alert(1)",
        },
    )
    await console.h.settle()
    await signed_in(console)
    page = await console.page(f"/incidents/{ident}")
    assert "P1: what it promises" in page
    assert "Customers are affected now." in page
    assert "Acknowledge within 5 min of level 1 being paged, or level 2" in page
    assert '<a href="https://grafana.example.com/d/api" rel="noopener noreferrer">' in page
    assert 'class="runbook" href="https://runbooks.example.com/api"' in page
    assert 'href="javascript:' not in page  # only http(s) links are made
    assert "<script>alert(1)</script>" not in page
    assert "service=&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "opened as P1 by rules[0]" in page
    assert "sms page to Alice Doe sent" in page
    assert "waiting" in page  # alice's call, due after 1m
    assert "Post a status update" in page
    assert f'href="/incidents/{ident}/review"' in page
    console.h.notifier.expect_each(
        ("alice", "sms", f"#{ident} HighErrorRate"), ("frank", "sms", f"#{ident} OPENED")
    )


async def test_a_status_update_is_told_to_the_stakeholders(console: Console):
    ident = await console.h.fire("alertname=Down", "severity=critical")
    await console.h.settle()
    await signed_in(console)
    back = f"/incidents/{ident}"
    await console.post(f"/incidents/{ident}/updates", {"back": back, "text": "rolling back"})
    await console.h.settle()
    console.h.notifier.expect_each(
        ("alice", "sms", f"#{ident} Down"),
        ("frank", "sms", f"#{ident} OPENED"),
        ("frank", "sms", "update: rolling back"),
    )
    update = next(
        e for e in (await console.h.incident(ident))["timeline"] if e["kind"] == "status_update"
    )
    assert (update["actor"], update["detail"]["via"]) == ("alice", "console")
    empty = await console.post(
        f"/incidents/{ident}/updates", {"back": back, "text": " "}, status=400
    )
    assert "Write the update first" in await empty.text()


async def test_the_review_is_shown(console: Console):
    ident = await console.h.fire("alertname=Down", "severity=critical")
    await signed_in(console)
    page = await console.page(f"/incidents/{ident}/review")
    assert f'Review of <a href="/incidents/{ident}">#{ident}</a>' in page
    assert "Time to acknowledge" in page or "acknowledge" in page.lower()


async def test_an_unknown_incident_is_a_page_that_says_so(console: Console):
    await signed_in(console)
    page = await console.page("/incidents/999", status=404)
    assert "There is no incident #999." in page
    assert 'href="/incidents"' in page
    resp = await console.post("/incidents/999/ack", {"back": "/"}, status=404)
    assert "There is no incident #999." in await resp.text()
