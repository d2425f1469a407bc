"""Incident practice: explain, stakeholders, status updates, drills, reviews,
action items and maintenance windows — scenarios on the FakeClock."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from pager.practice.reminders import run_reminders
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


async def test_drill_pages_marked_and_kept_out_of_real_metrics(make_harness):
    h = await make_harness(PRACTICE)
    started = await h.post("/api/v1/drills", {"priority": "P1", "by": "erin"}, status=201)
    await h.settle()
    page = h.notifier.expect("alice", "sms", "[DRILL]", "[P1]")
    h.notifier.expect("frank", "sms", "[DRILL]", "OPENED")
    h.clock.advance(timedelta(seconds=42))
    await h.post(f"/api/v1/incidents/{started['id']}/ack", {"by": "alice"})
    await h.settle()
    h.notifier.expect("frank", "sms", "[DRILL]", "ACKNOWLEDGED")
    h.notifier.assert_no_more()
    assert page.incident_id == started["id"]
    assert sample(h, "pager_incidents_opened_total", {"priority": "P1"}) == 0
    assert sample(h, "pager_time_to_ack_seconds_count", {"priority": "P1"}) == 0
    drills = (await h.get("/api/v1/drills"))["drills"]
    assert [(d["id"], d["state"], d["acked_by"]) for d in drills] == [
        (started["id"], "acknowledged", "alice")
    ]
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
    assert "acknowledged by alice after 42s" in report
    # a real incident afterwards does count
    await h.fire(*CRITICAL)
    assert sample(h, "pager_incidents_opened_total", {"priority": "P1"}) == 1


async def test_drill_of_one_rotation_pages_only_that_rotation(make_harness):
    h = await make_harness(PRACTICE)
    await h.post("/api/v1/drills", {"rotation": "secondary"}, status=201)
    await h.fast_forward(minutes=30)
    h.notifier.expect("bob", "sms", "[DRILL]")
    h.notifier.expect("frank", "sms", "[DRILL]", "OPENED")
    h.notifier.assert_no_more()
    body = await h.post("/api/v1/drills", {"rotation": "nope"}, status=400)
    assert "no rotation 'nope'" in body["error"]


async def test_review_has_every_timeline_event_in_order_with_durations(make_harness):
    h = await make_harness(PRACTICE)
    incident = await h.fire(
        *CRITICAL, summary="API is down", annotations={"runbook_url": "https://rb/api"}
    )
    await h.fast_forward(minutes=6)  # alice sms, voice at 1m, bob at 5m
    await h.post(f"/api/v1/incidents/{incident}/ack", {"by": "bob"})
    h.clock.advance(timedelta(minutes=30))
    await h.post(f"/api/v1/incidents/{incident}/updates", {"text": "fixed config"}, status=201)
    await h.post(f"/api/v1/incidents/{incident}/resolve", {"by": "bob"})
    await h.settle()
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
