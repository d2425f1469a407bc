"""Incident practice: explain, stakeholders, status updates, drills, reviews,
action items and maintenance windows — scenarios on the FakeClock."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from pager.practice.reminders import run_reminders
from pager.store.models import Notification
from tests.api.test_oncall import cli
from tests.scenario.policies import BASE

PRACTICE = BASE.replace(
    "P1: {channels: [sms, voice], ack_expires: 1h, notify_on_resolve: true}",
    "P1: {description: Customers are affected now, channels: [sms, voice], ack_expires: 1h,"
    " notify_on_resolve: true, stakeholders: [person:frank]}",
)
CRITICAL = ("alertname=ApiDown", "severity=critical", "service=api")


def sample(h, name, labels=None):
    return h.pager.metrics.registry.get_sample_value(name, labels or {}) or 0.0


async def test_explain_shows_rule_priority_and_people_without_side_effects(make_harness):
    h = await make_harness(PRACTICE)
    data = await h.post("/api/v1/explain", {"labels": {"severity": "critical", "job": "x"}})
    assert data["rule"] == 'rules[0]: severity="critical"'
    assert (data["priority"], data["escalation"]) == ("P1", "platform")
    assert [lv["people"] for lv in data["levels"]] == [["alice"], ["bob"], ["erin"]]
    other = await h.post("/api/v1/explain", {"labels": {"team": "db"}})
    assert (other["rule"], other["priority"]) == ("default", "P2")
    code, out = await cli(h, "explain", "severity=critical")
    assert code == 0, out
    assert "priority:   P1  Customers are affected now" in out
    await h.settle()
    assert (await h.get("/api/v1/incidents"))["incidents"] == []
    h.notifier.assert_no_more()
    await h.post("/api/v1/explain", {"labels": ["x"]}, status=400)


async def test_explain_outside_the_priority_hours_says_the_page_would_be_held(make_harness):
    h = await make_harness(PRACTICE.replace("timezone: UTC}}", "timezone: Europe/London}}"))
    h.clock.set(datetime(2026, 1, 10, 12, 0, tzinfo=UTC))  # a Saturday: P2 is mon-fri
    data = await h.post("/api/v1/explain", {"labels": {"team": "db"}})
    assert data["priority"] == "P2"
    assert data["hours"] == "mon-fri 09:00-18:00 Europe/London"
    assert data["held_until"] == "2026-01-12T09:00:00+00:00"
    code, out = await cli(h, "explain", "team=db")
    assert code == 0, out
    assert "hours:      mon-fri 09:00-18:00 Europe/London" in out
    assert (
        "outside them now: the page would be held until 2026-01-12 09:00 UTC (Mon 09:00 GMT)"
    ) in out
    p1 = await h.post("/api/v1/explain", {"labels": {"severity": "critical"}})
    assert (p1["hours"], p1["held_until"]) == ("always", None)
    code, out = await cli(h, "explain", "severity=critical")
    assert "held" not in out


async def test_priorities_lists_meaning_rules_and_who_is_paged(make_harness):
    h = await make_harness(PRACTICE)
    data = await h.get("/api/v1/priorities")
    p1 = next(p for p in data["priorities"] if p["priority"] == "P1")
    assert p1["description"] == "Customers are affected now"
    assert p1["rules"][0] == 'rules[0]: severity="critical"'
    assert [e["escalation"] for e in p1["escalations"]] == ["gappy", "platform"]
    levels = p1["escalations"][1]["levels"]
    assert [(lv["ack_timeout"], lv["reaches_now"]) for lv in levels] == [
        ("5m", ["alice"]),
        ("10m", ["bob"]),
        ("15m", ["erin"]),
    ]
    code, out = await cli(h, "priorities")
    assert code == 0, out
    assert "P2: (no description)" in out
    assert "upgraded to P1 after 2h" in out


async def test_stakeholders_told_at_open_ack_resolve_and_never_paged(make_harness):
    h = await make_harness(PRACTICE)
    incident = await h.fire(*CRITICAL)
    await h.settle()
    h.notifier.expect("alice", "sms", "[P1]")
    told = h.notifier.expect("frank", "sms", "OPENED", "FYI")
    assert told.kind == "info"
    await h.post(f"/api/v1/incidents/{incident}/ack", {"by": "alice"})
    await h.settle()
    h.notifier.expect("frank", "sms", "ACKNOWLEDGED")
    await h.post(
        f"/api/v1/incidents/{incident}/updates", {"text": "rolled back", "by": "alice"}, status=201
    )
    await h.settle()
    h.notifier.expect("frank", "sms", "update: rolled back")
    await h.post(f"/api/v1/incidents/{incident}/resolve", {"by": "alice"})
    await h.settle()
    h.notifier.expect("frank", "sms", "RESOLVED", "FYI")  # alice resolved it: no notice
    h.notifier.assert_no_more()
    # frank was told, never paged: no page rows for him, and nothing he sent acked
    detail = await h.incident(incident)
    assert {n["kind"] for n in detail["notifications"] if n["person"] == "frank"} == {"info"}
    assert "status_update" in [e["kind"] for e in detail["timeline"]]


async def test_stakeholders_on_a_rotation_follow_its_override(make_harness):
    """A stakeholder rotation's override (carol covering for bob, say) is who is
    told, as it is who is paged: the notices and the status updates go to carol."""
    policy = PRACTICE.replace("stakeholders: [person:frank]", "stakeholders: [rotation:secondary]")
    h = await make_harness(policy)
    cover = {"rotation": "secondary", "person": "carol", "note": "bob is away"}
    cover |= {"start": "2026-01-05T08:00:00Z", "end": "2026-01-05T20:00:00Z"}
    await h.post("/api/v1/overrides", cover, status=201)
    incident = await h.fire(*CRITICAL)
    await h.settle()
    h.notifier.expect("alice", "sms", "[P1]")
    h.notifier.expect("carol", "sms", "OPENED", "FYI")
    await h.post(
        f"/api/v1/incidents/{incident}/updates", {"text": "rolled back", "by": "alice"}, status=201
    )
    await h.settle()
    h.notifier.expect("carol", "sms", "update: rolled back")
    h.notifier.assert_no_more()


async def test_drill_pages_marked_and_kept_out_of_real_metrics(make_harness):
    h = await make_harness(PRACTICE)
    started = await h.post("/api/v1/drills", {"priority": "P1", "by": "erin"}, status=201)
    await h.settle()
    page = h.notifier.expect("alice", "sms", "[DRILL]", "[P1]")
    h.notifier.expect("frank", "sms", "[DRILL]", "OPENED")
    h.clock.advance(timedelta(seconds=42))
    await h.post(f"/api/v1/incidents/{started['id']}/ack", {"by": "alice"})
    await h.settle()
    h.notifier.expect("frank", "sms", "[DRILL]", "RESOLVED")  # the drill has its answer
    h.notifier.assert_no_more()
    assert page.incident_id == started["id"]
    assert sample(h, "pager_incidents_opened_total", {"priority": "P1"}) == 0
    assert sample(h, "pager_time_to_ack_seconds_count", {"priority": "P1"}) == 0
    review = await (
        await h.client.get(
            f"/api/v1/incidents/{started['id']}/review",
            headers={"Authorization": "Bearer api-token"},
        )
    ).text()
    assert "DRILL: a game day exercise" in review
    assert "**Time to acknowledge:** 42s" in review
    from pager.commands.drill import drill_report

    report = drill_report(await h.incident(started["id"]))
    assert report.startswith(f"drill #{started['id']} (P1): complete")
    assert "acknowledged by alice after 42s" in report
    # a real incident afterwards does count
    await h.fire(*CRITICAL)
    assert sample(h, "pager_incidents_opened_total", {"priority": "P1"}) == 1


async def test_an_acknowledged_drill_is_complete_and_never_pages_again(make_harness):
    h = await make_harness(PRACTICE)  # P1: ack_expires 1h
    started = await h.post("/api/v1/drills", {"by": "erin"}, status=201)
    await h.settle()
    h.notifier.expect("alice", "sms", "[DRILL]")
    h.notifier.expect("frank", "sms", "[DRILL]", "OPENED")
    h.clock.advance(timedelta(seconds=30))
    await h.post(f"/api/v1/incidents/{started['id']}/ack", {"by": "alice"})
    await h.fast_forward(hours=3)  # past ack_expires, and past the 15m deadline
    h.notifier.expect("frank", "sms", "[DRILL]", "RESOLVED")
    h.notifier.assert_no_more()  # no re-page, no "PAGING AGAIN" to frank
    detail = await h.incident(started["id"])
    resolved = next(e for e in detail["timeline"] if e["kind"] == "resolved")
    assert resolved["detail"]["reason"] == "drill complete"
    assert (resolved["actor"], resolved["detail"]["via"]) == ("alice", "api")
    [drill] = (await h.get("/api/v1/drills"))["drills"]
    assert (drill["state"], drill["outcome"], drill["acked_by"]) == (
        "resolved",
        "complete",
        "alice",
    )
    assert (drill["time_to_ack_seconds"], drill["reached"]) == (30.0, ["alice"])
    await h.post(f"/api/v1/incidents/{started['id']}/ack", status=409)  # over: nothing to do


async def test_an_unanswered_drill_ends_at_its_deadline(make_harness):
    h = await make_harness(PRACTICE)
    started = await h.post("/api/v1/drills", {"wait": 120}, status=201)
    await h.settle()
    h.notifier.expect("alice", "sms", "[DRILL]")
    h.notifier.expect("frank", "sms", "[DRILL]", "OPENED")
    await h.fast_forward(minutes=1, seconds=59)
    h.notifier.expect("alice", "voice", "This is a drill")  # her call after 1m
    [running] = (await h.get("/api/v1/drills"))["drills"]
    assert (running["outcome"], running["ends_at"]) == ("running", "2026-01-05T09:02:00+00:00")
    await h.fast_forward(seconds=1)  # 09:02: the deadline, before bob's level at 5m
    h.notifier.expect("frank", "sms", "[DRILL]", "RESOLVED")
    h.notifier.expect("alice", "sms", "[DRILL]", "RESOLVED")  # notify_on_resolve
    await h.fast_forward(hours=2)
    h.notifier.assert_no_more()
    [drill] = (await h.get("/api/v1/drills"))["drills"]
    assert (drill["outcome"], drill["ended_at"]) == ("unanswered", "2026-01-05T09:02:00+00:00")
    assert drill["time_to_ack_seconds"] is None
    detail = await h.incident(started["id"])
    resolved = next(e for e in detail["timeline"] if e["kind"] == "resolved")
    assert (resolved["detail"]["reason"], resolved["detail"]["via"]) == (
        "drill ended unanswered",
        "drill",
    )
    from pager.commands.drill import drill_report

    assert "nobody acknowledged within 120s" in drill_report(detail)
    for wait in (0, -5, "soon", True, 86401):
        answer = await h.post("/api/v1/drills", {"wait": wait}, status=400)
        assert answer["error"].startswith("wait: "), answer  # names the field


async def test_pager_drill_follows_the_drill_until_it_ends(make_harness):
    h = await make_harness(PRACTICE)

    async def ack_when_started():
        for _ in range(200):
            drills = (await h.get("/api/v1/drills"))["drills"]
            if drills:
                await h.post(f"/api/v1/incidents/{drills[0]['id']}/ack", {"by": "alice"})
                return
            await asyncio.sleep(0.05)

    (code, out), _ = await asyncio.gather(
        cli(h, "drill", "--by", "erin", "--wait", "600"), ack_when_started()
    )
    assert code == 0, out
    assert "waiting up to 600s for an acknowledgement" in out
    assert "(P1): complete" in out
    assert "acknowledged by alice after 0s" in out
    opened = (await h.incident(1))["timeline"][0]
    assert "started by erin" in (await h.incident(1))["summary"]
    assert opened["kind"] == "opened"
    code, out = await cli(h, "drill", "--detach", "--wait", "60", "--json")
    assert code == 0, out
    assert json.loads(out) == {"id": 2, "status": "started"}
    [second, _first] = (await h.get("/api/v1/drills"))["drills"]
    assert second["ends_at"] == "2026-01-05T09:01:00+00:00"


async def test_drill_of_one_rotation_pages_only_that_rotation(make_harness):
    h = await make_harness(PRACTICE)
    await h.post("/api/v1/drills", {"rotation": "secondary"}, status=201)
    await h.fast_forward(minutes=30)
    h.notifier.expect("bob", "sms", "[DRILL]")
    h.notifier.expect("frank", "sms", "[DRILL]", "OPENED")
    h.notifier.expect("bob", "sms", "[DRILL]", "RESOLVED")  # unanswered after 15m: over
    h.notifier.expect("frank", "sms", "[DRILL]", "RESOLVED")
    h.notifier.assert_no_more()
    body = await h.post("/api/v1/drills", {"rotation": "nope"}, status=400)
    assert "no rotation 'nope'" in body["error"]


async def test_review_has_every_timeline_event_in_order_with_durations(make_harness):
    h = await make_harness(PRACTICE)
    incident = await h.fire(
        *CRITICAL, summary="API is down", annotations={"runbook_url": "https://rb/api"}
    )
    await h.fast_forward(minutes=6)  # alice sms, voice at 1m, bob at 5m
    h.notifier.expect_each(
        ("alice", "sms", "#1 ApiDown"),
        ("frank", "sms", "#1 OPENED"),  # the stakeholder
        ("alice", "voice", "ApiDown"),
        ("bob", "sms", "#1 ApiDown"),
    )
    await h.post(f"/api/v1/incidents/{incident}/ack", {"by": "bob"})
    h.clock.advance(timedelta(minutes=30))
    await h.post(f"/api/v1/incidents/{incident}/updates", {"text": "fixed config"}, status=201)
    await h.post(f"/api/v1/incidents/{incident}/resolve", {"by": "bob"})
    await h.settle()
    h.notifier.expect_each(
        ("frank", "sms", "#1 update: fixed config"),
        ("alice", "sms", "#1 RESOLVED"),  # who was paged, but bob who resolved it
        ("frank", "sms", "#1 RESOLVED"),
    )
    await h.post(
        f"/api/v1/incidents/{incident}/actions",
        {"title": "alert on config drift", "owner": "bob", "due": "2026-01-12T00:00:00Z"},
        status=201,
    )
    code, review = await cli(h, "review", str(incident))
    assert code == 0, review
    timeline = (await h.incident(incident))["timeline"]
    rows = [line for line in review.splitlines() if re.match(r"\| 2026-", line)]
    assert [r.split("|")[3].strip() for r in rows] == [e["kind"] for e in timeline]
    assert "**Time to acknowledge:** 6m 00s" in review
    assert "**Time to resolve:** 36m 00s" in review
    assert "**Runbook:** https://rb/api" in review
    assert "| +5m 00s | level |" in review
    assert "| alice | voice | page |" in review
    assert "alert on config drift | bob | 2026-01-12 | open |" in review
    for prompt in ("## What happened", "## Why it happened", "## What we change"):
        assert prompt in review


async def test_overdue_action_item_is_reminded_once_a_day(make_harness):
    h = await make_harness(PRACTICE)
    incident = await h.fire(*CRITICAL)
    item = await h.post(
        f"/api/v1/incidents/{incident}/actions",
        {"title": "add a runbook", "owner": "carol", "due": "2026-01-06T00:00:00Z"},
        status=201,
    )
    await h.post(f"/api/v1/incidents/{incident}/resolve")
    await h.settle()
    h.notifier.sent.clear()
    assert await run_reminders(h.pager) == 0  # not due yet
    h.clock.set(datetime(2026, 1, 7, 9, 0, tzinfo=UTC))
    assert await run_reminders(h.pager) == 1
    assert await run_reminders(h.pager) == 0  # same day: once
    await h.settle()
    h.notifier.expect("carol", "sms", "overdue", "add a runbook")
    assert sample(h, "pager_action_items_open", {"overdue": "true"}) == 1
    h.clock.set(datetime(2026, 1, 8, 9, 0, tzinfo=UTC))
    assert await run_reminders(h.pager) == 1
    await h.settle()
    h.notifier.expect("carol", "sms", "overdue")
    code, out = await cli(h, "actions", "close", str(item["id"]))
    assert code == 0, out
    h.clock.set(datetime(2026, 1, 9, 9, 0, tzinfo=UTC))
    assert await run_reminders(h.pager) == 0
    h.notifier.assert_no_more()
    assert sample(h, "pager_action_items_open", {"overdue": "true"}) == 0


async def test_unreviewed_p1_reminds_the_acknowledger_after_a_week(make_harness):
    h = await make_harness(PRACTICE)
    incident = await h.fire(*CRITICAL)
    await h.settle()
    await h.post(f"/api/v1/incidents/{incident}/ack", {"by": "alice"})
    await h.post(f"/api/v1/incidents/{incident}/resolve", {"by": "alice"})
    await h.settle()
    h.notifier.sent.clear()
    h.clock.advance(timedelta(days=6))
    assert await run_reminders(h.pager) == 0
    h.clock.advance(timedelta(days=1, minutes=1))
    assert await run_reminders(h.pager) == 1
    assert await run_reminders(h.pager) == 0
    await h.settle()
    h.notifier.expect("alice", "sms", "no review yet")
    h.notifier.assert_no_more()


async def test_future_maintenance_window_starts_and_ends_on_time(make_harness):
    h = await make_harness(PRACTICE)
    window = await h.post(
        "/api/v1/maintenance",
        {
            "matchers": ['service="api"'],
            "start": "2026-01-05T10:00:00Z",
            "end": "2026-01-05T11:00:00Z",
            "reason": "database upgrade",
        },
        status=201,
    )
    await h.fast_forward(minutes=59)  # 09:59, before the window
    before = await h.fire("alertname=Early", "severity=critical", "service=api")
    await h.settle()
    h.notifier.expect("alice", "sms", "Early")
    h.notifier.expect("frank", "sms", "OPENED")
    await h.fast_forward(minutes=1)  # 10:00: the window starts
    h.notifier.expect("alice", "voice", "Early")  # already paging: it keeps paging
    await h.post(f"/api/v1/incidents/{before}/resolve", {"by": "alice"})  # no notice to her
    await h.settle()
    h.notifier.expect("frank", "sms", "RESOLVED")
    during = await h.fire(*CRITICAL)
    await h.fast_forward(minutes=59, seconds=59)
    h.notifier.assert_no_more()  # recorded, not paged
    detail = await h.incident(during)
    assert detail["suppressed"] is True
    suppressed = next(e for e in detail["timeline"] if e["kind"] == "suppressed")
    assert suppressed["detail"]["maintenance_window"] == window["id"]
    assert suppressed["detail"]["window_end"] == "2026-01-05T11:00:00+00:00"
    await h.fast_forward(seconds=1)  # 11:00: the window ends, still firing: page now
    h.notifier.expect("alice", "sms", "ApiDown")
    h.notifier.expect("frank", "sms", "OPENED")
    h.notifier.assert_no_more()
    ended = next(
        e for e in (await h.incident(during))["timeline"] if e["kind"] == "maintenance_ended"
    )
    assert ended["at"] == "2026-01-05T11:00:00+00:00"
    listed = (await h.get("/api/v1/maintenance"))["maintenance"]
    assert [w["active"] for w in listed] == [False]


async def delete(h, path, status=200):
    resp = await h.client.delete(path, headers={"Authorization": "Bearer api-token"})
    assert resp.status == status, await resp.text()
    return await resp.json()


async def test_a_running_maintenance_window_ended_early_pages_what_it_held(make_harness):
    h = await make_harness(PRACTICE)
    window = await h.post(
        "/api/v1/maintenance",
        {"matchers": ['service="api"'], "end": "2026-01-05T12:00:00Z", "reason": "upgrade"},
        status=201,
    )
    held = await h.fire(*CRITICAL)
    await h.fast_forward(minutes=30)
    h.notifier.assert_no_more()  # recorded, not paged
    ended = await delete(h, f"/api/v1/maintenance/{window['id']}")
    assert (ended["status"], ended["end"], ended["released"]) == (
        "ended",
        "2026-01-05T09:30:00+00:00",
        [held],
    )
    await h.settle()
    h.notifier.expect("alice", "sms", "ApiDown")  # at once, not at 12:00
    h.notifier.expect("frank", "sms", "OPENED")
    timeline = (await h.incident(held))["timeline"]
    [end_event] = [e for e in timeline if e["kind"] == "maintenance_ended"]
    assert end_event["at"] == "2026-01-05T09:30:00+00:00"
    assert end_event["detail"] == {"maintenance_window": window["id"], "early": True}
    assert (await h.incident(held))["suppressed"] is False
    listed = (await h.get("/api/v1/maintenance"))["maintenance"]
    assert [(w["active"], w["end"]) for w in listed] == [(False, "2026-01-05T09:30:00+00:00")]
    later = await h.fire("alertname=Later", "severity=critical", "service=api")
    await h.settle()
    h.notifier.expect("alice", "sms", "Later")  # the window no longer suppresses
    h.notifier.expect("frank", "sms", "OPENED")
    assert (await h.incident(later))["suppressed"] is False
    gone = await delete(h, f"/api/v1/maintenance/{window['id']}", status=409)
    assert gone["error"] == (
        f"maintenance window {window['id']} ended already, at 2026-01-05T09:30:00+00:00"
    )
    h.notifier.assert_no_more()


async def test_ending_one_window_leaves_an_incident_another_still_covers(make_harness):
    h = await make_harness(PRACTICE)
    short = await h.post(
        "/api/v1/maintenance",
        {"matchers": ['service="api"'], "end": "2026-01-05T12:00:00Z"},
        status=201,
    )
    held = await h.fire(*CRITICAL)
    wide = await h.post(
        "/api/v1/maintenance",
        {"matchers": ['severity="critical"'], "end": "2026-01-05T10:00:00Z"},
        status=201,
    )
    ended = await delete(h, f"/api/v1/maintenance/{short['id']}")
    assert ended["released"] == []
    await h.fast_forward(minutes=59, seconds=59)
    h.notifier.assert_no_more()  # the other window holds it until 10:00
    await h.fast_forward(seconds=1)
    h.notifier.expect("alice", "sms", "ApiDown")
    h.notifier.expect("frank", "sms", "OPENED")
    suppressed = [e for e in (await h.incident(held))["timeline"] if e["kind"] == "suppressed"]
    assert [e["detail"]["maintenance_window"] for e in suppressed] == [short["id"], wide["id"]]


async def test_a_future_maintenance_window_is_deleted(make_harness):
    h = await make_harness(PRACTICE)
    window = await h.post(
        "/api/v1/maintenance",
        {
            "matchers": ['service="api"'],
            "start": "2026-01-05T10:00:00Z",
            "end": "2026-01-05T11:00:00Z",
        },
        status=201,
    )
    deleted = await delete(h, f"/api/v1/maintenance/{window['id']}")
    assert (deleted["status"], deleted["released"]) == ("deleted", [])
    assert (await h.get("/api/v1/maintenance"))["maintenance"] == []
    await h.fast_forward(hours=1)  # 10:00: no window starts
    await h.fire(*CRITICAL)
    await h.settle()
    h.notifier.expect("alice", "sms", "ApiDown")
    h.notifier.expect("frank", "sms", "OPENED")
    h.notifier.assert_no_more()
    await delete(h, f"/api/v1/maintenance/{window['id']}", status=404)
    await delete(h, "/api/v1/maintenance/x", status=400)


async def test_maintenance_bad_input(make_harness):
    h = await make_harness(PRACTICE)
    body = await h.post(
        "/api/v1/maintenance", {"matchers": ['a=~"("'], "end": "2026-01-05T11:00:00Z"}, status=400
    )
    assert body["error"].startswith("matchers:")
    await h.post("/api/v1/maintenance", {"matchers": [], "end": "2026-01-05T11:00:00Z"}, status=400)
    body = await h.post(
        "/api/v1/maintenance", {"matchers": ["a=b"], "end": "2026-01-05T08:00:00Z"}, status=400
    )
    assert body["error"] == "end must be after start"


async def test_stakeholder_notices_decided_in_one_batch_are_numbered_per_incident(
    make_harness,
):
    """The escalator reads how many notices each incident of a batch had in one
    query: two incidents with different histories, stepped together, each get
    their own next number (the notice's unique key carries it)."""
    h = await make_harness(PRACTICE)
    first = await h.fire(*CRITICAL)
    second = await h.fire("alertname=DbDown", "severity=critical", "service=db")
    await h.settle()
    await h.post(f"/api/v1/incidents/{second}/ack", {"by": "alice"})
    await h.settle()
    await h.post(f"/api/v1/incidents/{first}/ack", {"by": "alice"})
    await h.post(f"/api/v1/incidents/{second}/resolve", {"by": "alice"})
    await h.settle()  # both in one batch of the escalator
    async with h.pager.db.read() as session:
        keys = set(
            (
                await session.execute(
                    select(Notification.key).where(Notification.person_id == "frank")
                )
            ).scalars()
        )
    assert keys == {
        f"{first}:stakeholder:1:frank",
        f"{first}:stakeholder:2:frank",
        f"{second}:stakeholder:1:frank",
        f"{second}:stakeholder:2:frank",
        f"{second}:stakeholder:3:frank",
    }
    h.notifier.allow_more("the pages and notices themselves are other tests' subject")
