"""Escalation scenarios, read like specs: every page expected, nothing more."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.scenario.policies import BASE

CRITICAL = ("alertname=ApiDown", "severity=critical", "service=api")


async def test_first_page_at_once_then_voice_after_a_minute(make_harness):
    h = await make_harness(BASE)
    await h.fire(*CRITICAL, summary="API is down")
    await h.settle()
    h.notifier.expect("alice", "sms", "[P1]", "ApiDown api", "API is down", "Reply")
    h.notifier.assert_no_more()
    await h.fast_forward(seconds=59)
    h.notifier.assert_no_more()
    await h.fast_forward(seconds=1)
    h.notifier.expect("alice", "voice", "Press 1 to acknowledge")
    h.notifier.assert_no_more()


async def test_escalates_to_level_two_after_ack_timeout(make_harness):
    h = await make_harness(BASE)
    incident = await h.fire(*CRITICAL)
    await h.fast_forward(minutes=1)
    h.notifier.expect("alice", "sms")
    h.notifier.expect("alice", "voice")
    await h.fast_forward(minutes=3, seconds=59)
    h.notifier.assert_no_more()
    await h.fast_forward(seconds=1)
    h.notifier.expect("bob", "sms", f"#{incident}")
    h.notifier.assert_no_more()
    detail = await h.incident(incident)
    assert detail["escalation"]["level"] == 2  # counted from 1, as people say "level 2"
    levels = [e["detail"] for e in detail["timeline"] if e["kind"] == "level"]
    assert [(lv["level"], lv["people"]) for lv in levels] == [(1, ["alice"]), (2, ["bob"])]


async def test_repeat_runs_levels_again_then_exhausts(make_harness):
    h = await make_harness(BASE)
    incident = await h.fire(*CRITICAL)
    await h.fast_forward(minutes=30)  # 5 + 10 + 15: one loop
    for person, channel in [
        ("alice", "sms"),
        ("alice", "voice"),
        ("bob", "sms"),
        ("erin", "sms"),
        ("alice", "sms"),
    ]:
        h.notifier.expect(person, channel)
    await h.fast_forward(minutes=30)
    for person, channel in [("alice", "voice"), ("bob", "sms"), ("erin", "sms")]:
        h.notifier.expect(person, channel)
    h.notifier.assert_no_more()
    detail = await h.incident(incident)
    assert detail["state"] == "triggered"
    assert detail["escalation"]["exhausted"] is True
    assert "exhausted" in await h.events(incident)
    await h.fast_forward(hours=3)
    h.notifier.assert_no_more()


async def test_ack_stops_paging(make_harness):
    h = await make_harness(BASE)
    incident = await h.fire(*CRITICAL)
    await h.settle()
    h.notifier.expect("alice", "sms")
    await h.post(f"/api/v1/incidents/{incident}/ack", {"by": "alice"})
    await h.fast_forward(minutes=30)
    h.notifier.assert_no_more()
    detail = await h.incident(incident)
    assert (detail["state"], detail["acked_by"]) == ("acknowledged", "alice")
    assert [n["state"] for n in detail["notifications"]] == ["sent", "cancelled"]


async def test_resolve_stops_paging_and_tells_who_was_paged(make_harness):
    h = await make_harness(BASE)
    incident = await h.fire(*CRITICAL)
    await h.fast_forward(minutes=5)
    h.notifier.expect("alice", "sms")
    h.notifier.expect("alice", "voice")
    h.notifier.expect("bob", "sms")
    await h.fire(*CRITICAL, status="resolved")
    await h.fast_forward(hours=1)
    h.notifier.expect("alice", "sms", "RESOLVED", f"#{incident}")
    h.notifier.expect("bob", "sms", "RESOLVED")
    h.notifier.assert_no_more()
    assert (await h.incident(incident))["state"] == "resolved"


async def test_manual_escalate_moves_on_at_once(make_harness):
    h = await make_harness(BASE)
    incident = await h.fire(*CRITICAL)
    await h.settle()
    h.notifier.expect("alice", "sms")
    await h.post(f"/api/v1/incidents/{incident}/escalate", {"by": "alice"})
    await h.settle()
    h.notifier.expect("bob", "sms")
    h.notifier.assert_no_more()
    await h.fast_forward(seconds=60)
    h.notifier.expect("alice", "voice")  # still unacknowledged: her own rule keeps running
    h.notifier.assert_no_more()


async def test_p2_out_of_hours_is_held_until_the_window_opens(make_harness, clock):
    clock.set(datetime(2026, 1, 5, 20, 0, tzinfo=UTC))  # Monday evening
    h = await make_harness(BASE)
    incident = await h.fire("alertname=DiskFilling", "severity=warning")
    await h.fast_forward(hours=12, minutes=59)
    h.notifier.assert_no_more()
    assert "held" in await h.events(incident)
    await h.fast_forward(minutes=1)  # Tuesday 09:00
    h.notifier.expect("alice", "sms", "[P2]", "DiskFilling")
    h.notifier.assert_no_more()  # P2 is SMS only: no voice
    assert "released" in await h.events(incident)


async def test_p2_unresolved_is_upgraded_to_p1(make_harness, clock):
    clock.set(datetime(2026, 1, 5, 10, 0, tzinfo=UTC))
    h = await make_harness(BASE)
    incident = await h.fire("alertname=DiskFilling", "severity=warning")
    await h.fast_forward(minutes=60)  # two loops of P2, SMS only
    for person in ["alice", "bob", "erin", "alice", "bob", "erin"]:
        h.notifier.expect(person, "sms", "[P2]")
    h.notifier.assert_no_more()
    await h.fast_forward(minutes=60)  # 2h after paging began
    h.notifier.expect("alice", "sms", "[P1]")
    h.notifier.assert_no_more()
    await h.fast_forward(minutes=1)  # P1 allows voice: alice's 1-minute rule now applies
    h.notifier.expect("alice", "voice", "priority 1")
    h.notifier.assert_no_more()
    detail = await h.incident(incident)
    assert (detail["priority"], detail["original_priority"]) == ("P1", "P2")
    assert "upgraded" in await h.events(incident)


async def test_ack_expires_and_pages_again(make_harness):
    h = await make_harness(BASE)
    incident = await h.fire(*CRITICAL)
    await h.settle()
    h.notifier.expect("alice", "sms")
    await h.post(f"/api/v1/incidents/{incident}/ack", {"by": "alice"})
    await h.fast_forward(minutes=59, seconds=59)
    h.notifier.assert_no_more()
    await h.fast_forward(seconds=1)
    h.notifier.expect("alice", "sms")
    h.notifier.assert_no_more()
    assert "ack_expired" in await h.events(incident)
    assert (await h.incident(incident))["state"] == "triggered"


async def test_policy_changed_mid_incident_keeps_the_old_one(make_harness, tmp_path):
    h = await make_harness(BASE)
    incident = await h.fire(*CRITICAL)
    await h.settle()
    h.notifier.expect("alice", "sms")
    changed = BASE.replace("members: [bob]", "members: [carol]")
    (tmp_path / "policies" / "policy.yaml").write_text(changed)
    await h.post("/-/reload")
    await h.fast_forward(minutes=5)
    h.notifier.expect("alice", "voice")
    h.notifier.expect("bob", "sms", f"#{incident}")  # the policy it started with
    h.notifier.assert_no_more()
    second = await h.fire("alertname=Other", "severity=critical")
    await h.fast_forward(minutes=5)
    h.notifier.expect("alice", "sms", f"#{second}")
    h.notifier.expect("alice", "voice", f"{second}")
    h.notifier.expect("carol", "sms", f"#{second}")  # new incidents use the new one
    h.notifier.assert_no_more()


async def test_empty_rotation_is_recorded_and_skipped(make_harness):
    h = await make_harness(BASE)
    incident = await h.fire("alertname=Gap", "team=gappy")
    await h.settle()
    h.notifier.expect("bob", "sms", "Gap")
    h.notifier.assert_no_more()
    events = await h.incident(incident)
    kinds = [e["kind"] for e in events["timeline"]]
    assert kinds.index("empty_rotation") < kinds.index("level_skipped") < kinds.index("level")
    empty = next(e for e in events["timeline"] if e["kind"] == "empty_rotation")
    assert empty["detail"]["rotation"] == "nobody"
    skipped = next(e for e in events["timeline"] if e["kind"] == "level_skipped")
    assert (empty["detail"]["level"], skipped["detail"]["level"]) == (1, 1)


async def test_repeated_alert_does_not_page_again(make_harness):
    h = await make_harness(BASE)
    first = await h.fire(*CRITICAL)
    await h.settle()
    again = await h.fire(*CRITICAL)
    await h.settle()
    assert first == again
    h.notifier.expect("alice", "sms")
    h.notifier.assert_no_more()
