"""The console's part 2 without a browser: the forms of My on-call, overrides
removed with their author, the practice pages and what they say."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.web.console import Console, csrf_of
from tests.web.part2 import PART2_POLICY, SPRING_FORWARD_WEEK


async def started(start_console, clock, person: str = "alice") -> Console:
    clock.set(SPRING_FORWARD_WEEK)
    c: Console = await start_console(PART2_POLICY)
    await c.sign_in(person)
    return c


async def test_give_and_take_a_shift_on_my_oncall(start_console, clock):
    c = await started(start_console, clock)
    page = await c.page("/my")
    assert "My shifts, the next 28 days" in page
    assert "Give the rest of this shift to" not in page  # alice is not on call right now
    # alice's next daily shift: Fri 27 Mar 09:00 GMT. Give it to dave... to bob.
    form = {
        "rotation": "daily",
        "replaces": "alice",
        "person": "bob",
        "start": "2026-03-27T09:00:00+00:00",
        "end": "2026-03-28T09:00:00+00:00",
        "back": "/my",
    }
    resp = await c.post("/overrides", {**form, "back": "/my"})
    assert resp.headers["Location"] == "/my"
    oncall = await c.h.get("/api/v1/oncall?rotation=daily&at=2026-03-27T12:00:00Z")
    assert oncall["rotations"][0]["person"] == "bob"
    # bob's Wed shift, taken by alice from the "Shifts I could take" list
    take = {
        **form,
        "replaces": "bob",
        "person": "alice",
        "start": "2026-03-25T12:00:00+00:00",
        "end": "2026-03-26T09:00:00+00:00",
    }
    await c.post("/overrides", take)
    page = await c.page("/my")
    assert "on call now" in page
    assert "⇄ covering for Bob Roe" in page
    overrides = (await c.h.get("/api/v1/overrides"))["overrides"]
    assert {(o["person"], o["replaces"], o["created_by"]) for o in overrides} == {
        ("bob", "alice", "alice"),
        ("alice", "bob", "alice"),
    }


async def test_a_refused_give_shows_my_oncall_again_with_the_reason(start_console, clock):
    c = await started(start_console, clock)
    form = {
        "rotation": "daily",
        "replaces": "alice",
        "person": "alice",
        "back": "/my",
        "start": "2026-03-27T09:00:00+00:00",
        "end": "2026-03-28T09:00:00+00:00",
    }
    resp = await c.post("/overrides", form, status=400)
    assert "Alice Doe cannot cover for themselves." in await resp.text()
    resp = await c.post("/overrides", {**form, "person": "bob", "end": form["start"]}, status=400)
    assert "The end must be after the start." in await resp.text()
    assert (await c.h.get("/api/v1/overrides"))["overrides"] == []


async def test_removing_an_override_records_who_removed_it(start_console, clock):
    c = await started(start_console, clock, "bob")
    made = await c.h.post(
        "/api/v1/overrides",
        {
            "rotation": "daily",
            "person": "carol",
            "start": "2026-03-27T09:00",
            "end": "2026-03-28T09:00",
            "by": "alice",
        },
        status=201,
    )
    back = "/schedule/daily?view=week&start=2026-03-23"
    await c.post(f"/overrides/{made['id']}/remove", {"back": back})
    assert (await c.h.get("/api/v1/overrides"))["overrides"] == []
    page = await c.page(back)
    changes = page.split("Recent changes")[1]
    assert changes.index("Bob Roe removed Carol Poe's override") < changes.index(
        "Alice Doe made Carol Poe's override"
    )  # newest first
    await c.post(f"/overrides/{made['id']}/remove", {"back": back}, status=404)


async def test_the_reviews_page_lists_an_overdue_p1(start_console, clock):
    c = await started(start_console, clock)
    h = c.h
    old = await h.fire("alertname=Down", "severity=critical")
    await h.post(f"/api/v1/incidents/{old}/resolve", {"by": "alice"})
    fresh = await h.fire("alertname=Other", "severity=critical")
    await h.post(f"/api/v1/incidents/{fresh}/resolve", {"by": "alice"})
    h.clock.advance(timedelta(days=8))
    await c.sign_in("alice")  # a week later: the sign-in has expired
    await h.post(f"/api/v1/incidents/{fresh}/review", {"by": "bob"})
    page = await c.page("/reviews")
    overdue = page.split('id="overdue-heading"')[1].split("</section>")[0]
    assert f"#{old} Down" in overdue
    assert f"#{fresh} Other" not in overdue
    assert f"#{fresh} Other" in page.split('id="held-list-heading"')[1]
    review = await c.page(f"/incidents/{old}/review")
    assert "Overdue: a P1 resolved 8 d ago" in review
    await c.post(f"/incidents/{old}/review/held", {"held_on": "2026-04-02", "back": "/reviews"})
    assert f"#{old} Down" not in (await c.page("/reviews")).split('id="waiting-heading"')[0]
    incident = await h.incident(old)
    held = next(e for e in incident["timeline"] if e["kind"] == "reviewed")
    assert (held["actor"], held["detail"]["held_on"][:10]) == ("alice", "2026-04-02")
    tomorrow = {"held_on": "2026-04-03", "back": "/reviews"}
    resp = await c.post(f"/incidents/{old}/review/held", tomorrow, status=400)
    assert "a day still to come" in await resp.text()


async def test_action_items_are_closed_and_reassigned(start_console, clock):
    c = await started(start_console, clock)
    h = c.h
    ident = await h.fire("alertname=Down", "severity=critical")
    item = await h.post(
        f"/api/v1/incidents/{ident}/actions",
        {"title": "Fix it", "owner": "bob", "due": "2026-04-01T00:00:00Z"},
        status=201,
    )
    await c.post(f"/actions/{item['id']}/reassign", {"owner": "carol", "back": "/actions"})
    page = await c.page("/actions?owner=carol")
    assert "Fix it" in page
    assert "Carol Poe" in page
    assert "Fix it" not in await c.page("/actions?owner=bob")
    await c.post(f"/actions/{item['id']}/close", {"back": "/actions"})
    [done] = (await h.get("/api/v1/actions"))["actions"]
    assert (done["owner"], done["state"]) == ("carol", "done")
    assert "Fix it" not in await c.page("/actions")  # open ones by default
    assert "Fix it" in await c.page("/actions?state=all")
    timeline = await c.page(f"/incidents/{ident}")
    assert "action item 1 added for Bob Roe: Fix it" in timeline
    assert "action item 1 now Carol Poe&#39;s — Alice Doe" in timeline
    assert "action item 1 closed — Alice Doe" in timeline
    changes = [
        e for e in (await h.incident(ident))["timeline"] if e["kind"] == "action_item_updated"
    ]
    assert [(e["actor"], e["detail"]["changes"]) for e in changes] == [
        ("alice", {"owner": "carol"}),
        ("alice", {"state": "done"}),
    ]


async def test_maintenance_windows_made_later_and_ended_early(start_console, clock):
    c = await started(start_console, clock)
    # Times typed are alice's (London, GMT in March): the window runs 14:00-15:00 UTC.
    data = {
        "matchers": 'service="db"\nenv="prod"',
        "start": "2026-03-25T14:00",
        "end": "2026-03-25T15:00",
        "reason": "upgrade",
        "back": "/maintenance",
    }
    await c.post("/maintenance", data)
    [window] = (await c.h.get("/api/v1/maintenance"))["maintenance"]
    assert window["start"] == "2026-03-25T14:00:00+00:00"
    assert (window["matchers"], window["created_by"]) == (['service="db"', 'env="prod"'], "alice")
    page = await c.page("/maintenance")
    assert "Scheduled" in page
    assert "upgrade" in page
    assert "Delete" in page
    resp = await c.post("/maintenance", {**data, "matchers": 'service=~"("'}, status=400)
    assert "service" in await resp.text()
    c.h.clock.set(datetime(2026, 3, 25, 14, 30, tzinfo=UTC))
    held = await c.h.fire("alertname=DbSlow", "service=db", "env=prod")
    await c.post(f"/maintenance/{window['id']}/end", {"back": "/maintenance"})
    assert "maintenance_ended" in await c.h.events(held)
    [ended] = (await c.h.get("/api/v1/maintenance"))["maintenance"]
    assert ended["end"] == "2026-03-25T14:30:00+00:00"
    await c.post(f"/maintenance/{window['id']}/end", {"back": "/maintenance"}, status=409)


async def test_heartbeats_drills_priorities_and_health(start_console, clock):
    c = await started(start_console, clock)
    page = await c.page("/heartbeats")
    assert "nightly-backup" in page
    assert "waiting for its first ping" in page
    await c.h.post("/api/v1/heartbeats/nightly-backup", token="hook-token")
    assert "✔ ok" in await c.page("/heartbeats")
    await c.post(
        "/drills", {"priority": "P1", "rotation": "daily", "minutes": "15", "back": "/drills"}
    )
    [drill] = (await c.h.get("/api/v1/drills"))["drills"]
    assert drill["outcome"] == "running"
    assert "… running" in await c.page("/drills")
    resp = await c.post("/drills", {"priority": "P9", "minutes": "15"}, status=400)
    assert "no priority &#39;P9&#39;" in await resp.text()
    page = await c.page("/priorities?labels=severity%3Dcritical")
    assert "rules[0]: severity=&#34;critical&#34;" in page
    assert "It would page now" in page
    assert "Level 1 (rotation:primary): <strong>Carol Poe</strong>" in page
    assert "not name=value" in await c.page("/priorities?labels=oops")
    health = await c.page("/health?since=7d")
    assert "On-call health" in health
    assert '<svg class="chart"' in health
    assert "neither a duration" in await c.page("/health?since=soon")


async def test_explain_says_a_page_would_be_held_until_the_window_opens(start_console, clock):
    policy = PART2_POLICY.replace(
        "P2: {description: Needs a person today., channels: [sms]}",
        "P2: {description: Needs a person today., channels: [sms],"
        ' hours: {days: mon-fri, from: "09:00", to: "17:00", timezone: Europe/London}}',
    )
    clock.set(datetime(2026, 3, 28, 12, 0, tzinfo=UTC))  # a Saturday
    c = await start_console(policy)
    await c.sign_in("alice")
    page = await c.page("/priorities?labels=severity%3Dwarning")
    assert "Outside P2 hours (mon-fri 09:00-17:00 Europe/London): it would be held until" in page
    assert "Mon 30 Mar 09:00 BST" in page  # the first working morning after the clock change
    assert csrf_of(page)
